"""Screenshots of every screen of the web app, for ``docs/ui.md``: ``./scripts/screenshots``.

    .venv/bin/python -m bench.screenshots [--out docs/ui] [--only privacy-]

Not a benchmark: it shares the benches' server helpers. Starts ``headwater serve`` (processor
on) on a fresh embedded PostgreSQL, fills a workspace the way a user would (a source under a
tracking plan, events from a few people, a destination that receives them at a local HTTP
receiver and one that refuses them, an audience, a list audience and a computed trait, a person
invited, a token), signs in as the owner in the system's Chromium and saves one PNG per screen
(``SCREENS``), 1280 pixels wide, replacing the previous ones.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import asyncpg
import httpx
from playwright.sync_api import Page, sync_playwright
from sqlalchemy.engine import make_url

from bench.ingest import ADMIN_TOKEN, fresh_database, serve_on

EMAIL = "owner@example.com"
PASSWORD = "screenshots only"
WORKSPACE = "default"

Seeded = dict[str, str]
Screen = tuple[str, str, Callable[[Page, Seeded], None] | None]
"""(file name, path under the workspace, what to do on the page before the shot)."""


def _send_live(page: Page, seeded: Seeded) -> None:
    """Events sent while the live debugger watches, one of each fate; the first opened."""
    auth = {
        "Authorization": "Basic " + base64.b64encode(f"{seeded['write_key']}:".encode()).decode()
    }
    page.get_by_role("status").filter(has_text="Listening").wait_for()
    retry = {"userId": "ada", "event": "Order Completed", "messageId": "order-77"}
    for message in (retry, retry, {"event": "Checkout Started"}):
        page.request.post("/v1/track", headers=auth, data=message)
    events = page.get_by_role("list", name="Events, newest first")
    events.get_by_role("button").filter(has_text="stored").first.click()


def _select_send(page: Page, seeded: Seeded) -> None:
    """The send node's form open in the side panel."""
    page.locator('.react-flow__node[data-id="thanks"]').click()


def _test_run(page: Page, seeded: Seeded) -> None:
    """A test run of a sample whose order comes two hours after it entered."""
    page.get_by_role("button", name="Test run").click()
    panel = page.get_by_role("region", name="Test run")
    panel.get_by_role("button", name="Add a later event").click()
    panel.get_by_role("group", name="Later event 1").get_by_label("Message").fill(
        '{"type": "track", "userId": "user-1", "event": "Order Completed"}'
    )
    panel.get_by_role("button", name="Run the test").click()
    panel.get_by_role("list", name="Path").wait_for()


def _regulation_details(page: Page, seeded: Seeded) -> None:
    """The first request's details open, and a person looked up."""
    page.get_by_role("button", name="Show details").first.click()
    lookup = page.get_by_role("region", name="Is this person suppressed?")
    lookup.get_by_label("Id to look up").fill("carl")
    lookup.get_by_role("button", name="Look up").click()
    lookup.get_by_role("status").wait_for()


def _new_regulation(page: Page, seeded: Seeded) -> None:
    page.get_by_role("button", name="Delete or suppress a person").click()
    page.get_by_label("Ids, one a line").fill("user-123\nuser-456")


def _new_rule(page: Page, seeded: Seeded) -> None:
    page.get_by_role("button", name="Add a rule").click()
    page.get_by_label("Name").fill("Phone numbers")
    page.get_by_label("Detector").select_option("phone")


def _test_rules(page: Page, seeded: Seeded) -> None:
    page.get_by_role("button", name="Test", exact=True).click()
    page.get_by_role("table", name="Fields decided").wait_for()


def _dry_run(page: Page, seeded: Seeded) -> None:
    page.get_by_role("button", name="Dry run").click()
    page.get_by_role("region", name="What would be removed now").get_by_role("status").wait_for()


def _preview_model(page: Page, seeded: Seeded) -> None:
    page.get_by_label("Name", exact=True).fill("Paying customers")
    page.get_by_label("Database URL").fill(seeded["shop_url"])
    page.get_by_label("SQL query").fill(_SHOP_QUERY)
    page.get_by_label("Primary key column").fill("id")
    page.get_by_role("button", name="Preview rows").click()
    page.get_by_role("table", name="Preview rows").wait_for()


def _choose_model(page: Page, seeded: Seeded) -> None:
    page.get_by_label("Name", exact=True).fill("Paying customers to profiles")
    page.get_by_label("Model").select_option(label="Customers")
    page.get_by_text("Its columns:").wait_for()
    page.get_by_label("User id column").fill("email")
    page.get_by_label("Traits: one per line").fill("plan\ncountry")


def _failures(page: Page, seeded: Seeded) -> None:
    page.get_by_text("Rows that failed").first.click()


_CUSTOMERS = (
    "email,first_name,plan,signed_up\n"
    "ann@example.com,Ann,pro,2026-01-02T09:30:00Z\n"
    ",Nobody,free,2026-01-03T10:00:00Z\n"
    "bob@example.com,Bob,free,last tuesday\n"
    "cleo@example.com,Cleo,pro,2026-01-04T11:15:00Z\n"
)


def _import_checked(page: Page, seeded: Seeded) -> None:
    """A customer list uploaded, its columns shown, every row checked."""
    path = Path(tempfile.mkdtemp()) / "customers.csv"
    path.write_text(_CUSTOMERS, encoding="utf-8")
    page.get_by_label("File (CSV, JSON Lines or Parquet)").set_input_files(path)
    page.get_by_role("button", name="Upload and show columns").click()
    page.get_by_role("button", name="Check every row first").click()
    page.get_by_role("status", name="Check result").wait_for()


def _new_webhook(page: Page, seeded: Seeded) -> None:
    """The new source form, choosing a tool's webhooks."""
    page.get_by_role("button", name="Add a source").click()
    page.get_by_label("Name").fill("Payments")
    page.get_by_label("Another tool's webhooks").check()
    page.get_by_label("Sending tool").wait_for()


def _webhook_request(page: Page, seeded: Seeded) -> None:
    """The stored request chosen."""
    requests = page.get_by_role("list", name="Requests, newest first")
    requests.get_by_role("button").filter(has_text="message").first.click()


def _webhook_test(page: Page, seeded: Seeded) -> None:
    """A sample Stripe event run through the preset's rules, shown as the form."""
    page.get_by_label("Sample body").fill(STRIPE_EVENT.decode())
    page.get_by_role("button", name="Run the test").click()
    page.get_by_label("Test result").wait_for()


def _webhook_rule_problem(page: Page, seeded: Seeded) -> None:
    """An expression that does not parse, saved: the server's problem next to its field."""
    rule = page.get_by_role("group", name="Rule 1", exact=True)
    rule.get_by_label("Event name: comes from").select_option("expr")
    rule.get_by_label("Event name", exact=True).fill("upper(body.type")
    page.get_by_role("button", name="Save rules").click()
    rule.get_by_text("The expression is invalid").wait_for()
    rule.get_by_label("Event name", exact=True).scroll_into_view_if_needed()


def _webhook_fixed(page: Page, seeded: Seeded) -> None:
    """Two fixed values made from their JSON: a list, and a number still being typed (not
    JSON yet, named at its field)."""
    rule = page.get_by_role("group", name="Rule 1", exact=True)
    for name, text in (("properties.tags", '["vip", "eu"]'), ("properties.score", "4 2")):
        rule.get_by_role("button", name="Add a field").click()
        fields = rule.get_by_label(re.compile(r"^Field name, row \d+$"))
        fields.nth(fields.count() - 1).fill(name)
        rule.get_by_label(f"{name}: comes from").select_option("json")
        rule.get_by_label(name, exact=True).fill(text)
    rule.get_by_label("properties.score", exact=True).scroll_into_view_if_needed()


def _webhook_conditions(page: Page, seeded: Seeded) -> None:
    """A rule made to need four conditions: its own, two added in the form (the second a
    negated test), and a group of two of which either may hold."""
    rule = page.get_by_role("group", name="Rule 1", exact=True)
    rule.get_by_label("Applies to").select_option("all")
    rule.get_by_role("button", name="Add a condition").click()
    rule.get_by_label("Field, condition 2").fill("body.livemode")
    rule.get_by_label("Value, condition 2").fill("true")
    rule.get_by_role("button", name="Add a condition").click()
    rule.get_by_label("Field, condition 3").fill("body.data.object.receipt_email")
    rule.get_by_label("Test, condition 3").select_option("not_contains")
    rule.get_by_label("Value, condition 3").fill("@test.")
    rule.get_by_role("button", name="Add a group of conditions", exact=True).click()
    rule.get_by_label("Group 4: requests where").select_option("any")
    rule.get_by_label("Field, condition 4.1").fill("body.type")
    rule.get_by_label("Value, condition 4.1").fill("invoice.paid")
    rule.get_by_role("button", name="Add a condition to group 4").click()
    rule.get_by_label("Field, condition 4.2").fill("body.type")
    rule.get_by_label("Value, condition 4.2").fill("charge.succeeded")
    rule.get_by_label("Applies to").scroll_into_view_if_needed()


def _webhook_extras(page: Page, seeded: Seeded) -> None:
    """A transformation typed, and a verification reply ticked and made to answer Slack-style
    challenges in a JSON object."""
    page.get_by_role("group", name="Transformation").get_by_label("Expression").fill(
        "[m for m in messages if m.properties.amount > 0]"
    )
    reply = page.get_by_role("group", name="Verification reply")
    reply.get_by_label("Answer the tool's verification requests").check()
    reply.get_by_label("Field", exact=True).fill("body.challenge")
    reply.get_by_label("Echo the value of").fill("body.challenge")
    reply.get_by_label("Answer with").select_option("json")
    reply.get_by_label("GET").uncheck()
    page.get_by_role("group", name="Transformation").scroll_into_view_if_needed()


SCREENS: list[Screen] = [
    ("overview", "overview", None),
    ("sources", "sources", None),
    ("source-setup", "sources/{source}", None),
    ("source-live", "sources/{source}?tab=live", _send_live),
    ("source-schema", "sources/{source}?tab=schema", None),
    ("source-plugins", "sources/{source}?tab=plugins", None),
    ("imports", "imports", None),
    ("imports-check", "imports", _import_checked),
    ("webhook-new", "sources", _new_webhook),
    ("webhook-setup", "sources/{hook}", None),
    ("webhook-requests", "sources/{hook}?tab=requests", _webhook_request),
    ("webhook-rules", "sources/{hook}?tab=rules", _webhook_test),
    ("webhook-rules-empty", "sources/{hook_empty}?tab=rules", None),
    ("webhook-rules-problem", "sources/{hook}?tab=rules", _webhook_rule_problem),
    ("webhook-rules-conditions", "sources/{hook}?tab=rules", _webhook_conditions),
    ("webhook-rules-fixed", "sources/{hook}?tab=rules", _webhook_fixed),
    ("webhook-rules-extras", "sources/{hook}?tab=rules", _webhook_extras),
    ("destinations", "destinations", None),
    ("destination", "destinations/{destination}", None),
    ("destination-dead-letters", "destinations/{broken}?tab=dead-letters", None),
    ("destination-settings", "destinations/{destination}?tab=settings", None),
    ("destination-new", "destinations/new", None),
    ("reverse-etl", "reverse-etl", None),
    ("reverse-etl-model-new", "reverse-etl/models/new", _preview_model),
    ("reverse-etl-sync-new", "reverse-etl/syncs/new", _choose_model),
    ("reverse-etl-sync", "reverse-etl/syncs/{sync}", _failures),
    ("plans", "plans", None),
    ("plan", "plans/web-shop", None),
    ("plan-violations", "plans?tab=violations", None),
    ("plan-quarantine", "plans?tab=quarantine", None),
    ("audiences", "audiences", None),
    ("audience-new", "audiences/new", None),
    ("audience", "audiences/buyers", None),
    ("audience-changes", "audiences/buyers?tab=changes", None),
    ("list-audience", "audiences/vips", None),
    ("computed-traits", "computed-traits", None),
    ("computed-trait", "computed-traits/orders", None),
    ("journeys", "journeys", None),
    ("journey", "journeys/welcome", None),
    ("journey-node", "journeys/welcome", _select_send),
    ("journey-test-run", "journeys/welcome", _test_run),
    ("profiles", "profiles", None),
    ("profile", "profiles/{profile}", None),
    ("profile-events", "profiles/{profile}?tab=events", None),
    ("profile-graph", "profiles/{profile}?tab=identity", None),
    ("profile-audiences", "profiles/{profile}?tab=audiences", None),
    ("profile-journeys", "profiles/{profile}?tab=journeys", None),
    ("settings-people", "settings/people", None),
    ("settings-tokens", "settings/tokens", None),
    ("settings-audit", "settings/audit", None),
    ("settings-identity", "settings/identity", None),
    ("settings-workspaces", "settings/workspaces", None),
    ("settings-account", "settings/account", None),
    ("privacy-deletion", "privacy/deletion", _regulation_details),
    ("privacy-deletion-new", "privacy/deletion", _new_regulation),
    ("privacy-exports", "privacy/exports", None),
    ("privacy-pii", "privacy/pii", None),
    ("privacy-pii-new", "privacy/pii", _new_rule),
    ("privacy-pii-inbox", "privacy/pii?tab=inbox", None),
    ("privacy-pii-test", "privacy/pii?tab=test", _test_rules),
    ("privacy-retention", "privacy/retention", _dry_run),
]

PLAN = {
    "name": "Web shop",
    "events": [
        {
            "name": name,
            "schema": {
                "type": "object",
                "properties": {"total": {"type": "number"}},
                "required": ["total"],
            },
        }
        for name in ("Product Viewed", "Order Completed")
    ],
}


class _Receiver(BaseHTTPRequestHandler):
    """Accepts what is posted to /hook; refuses what is posted to /broken (dead letters)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        refused = self.path.endswith("/broken")
        body = b'{"error": "unknown list id"}' if refused else b"{}"
        self.send_response(400 if refused else 200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@contextmanager
def _receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()


def _welcome(destination: int) -> dict[str, object]:
    """A journey for those who view a product: wait for an order, thank buyers."""
    return {
        "version": 1,
        "trigger": {"type": "event", "event": "Product Viewed"},
        "goal": {"event": "Order Completed", "within": {"days": 7}},
        "start": "wait",
        "nodes": {
            "wait": {
                "type": "wait_event",
                "label": "Wait for an order",
                "position": {"x": 200, "y": 40},
                "config": {
                    "events": [{"port": "bought", "event": "Order Completed"}],
                    "timeout": {"days": 3},
                },
                "next": {"bought": "thanks", "timeout": "done"},
            },
            "thanks": {
                "type": "send",
                "label": "Thank the buyer",
                "position": {"x": 60, "y": 240},
                "config": {"destination": destination, "event": "Thanks"},
                "next": {"out": "done"},
            },
            "done": {"type": "exit", "position": {"x": 260, "y": 420}},
        },
    }


STRIPE_EVENT = json.dumps(
    {
        "id": "evt_1Pz",
        "object": "event",
        "type": "invoice.paid",
        "created": 1_733_500_000,
        "livemode": False,
        "data": {"object": {"id": "in_1", "customer": "cus_ada", "amount_paid": 4200}},
    },
    indent=2,
).encode()


def _seed_webhook(admin: httpx.Client, base: str, api: str) -> str:
    """A Stripe webhook source with a signed event, and a request with a guessed secret."""
    made = admin.post(
        f"{api}/webhook-sources",
        json={"name": "Stripe payments", "preset": "stripe", "secret": "whsec_shots"},
    ).json()
    now = int(time.time())
    for secret in ("whsec_guess", "whsec_shots"):
        mac = hmac.new(secret.encode(), f"{now}.".encode() + STRIPE_EVENT, hashlib.sha256)
        httpx.post(
            base + made["hook"]["path"],
            content=STRIPE_EVENT,
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": f"t={now},v1={mac.hexdigest()}",
            },
        )
    return str(made["hook"]["source_id"])


def _seed_empty_webhook(admin: httpx.Client, api: str) -> str:
    """A webhook source with a token and no rules yet."""
    made = admin.post(
        f"{api}/webhook-sources",
        json={"name": "Form tool", "config": {"auth": {"type": "bearer"}, "rules": []}},
    ).json()
    return str(made["hook"]["source_id"])


def _seed(base: str, hook: str) -> Seeded:
    admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    admin.post(
        "/api/v1/users", json={"email": EMAIL, "password": PASSWORD, "instance_owner": True}
    ).raise_for_status()
    api = f"/api/v1/workspaces/{WORKSPACE}"
    source = admin.post(f"{api}/sources", json={"name": "Web shop", "kind": "client"}).json()
    chat = {"name": "Chat", "library_name": "chatPlugin", "url": "/device-mode/chat.js"}
    admin.put(f"{api}/sources/{source['id']}/plugins", json={"plugins": [chat]})
    admin.post(f"{api}/tracking-plans", json=PLAN).raise_for_status()
    crm = admin.post(f"{api}/sources", json={"name": "CRM export"}).json()
    job = admin.post(
        f"{api}/imports",
        params={"source_id": crm["id"], "kind": "profiles", "file_name": "crm-2026-01.csv"},
        content=_CUSTOMERS.encode(),
        headers={"Content-Type": "text/csv"},
    ).json()
    admin.post(f"{api}/imports/{job['id']}/start", json={}).raise_for_status()
    admin.put(
        f"{api}/sources/{source['id']}/tracking-plan",
        json={"plan": "web-shop", "settings": {"unplanned_events": "block", "violations": "flag"}},
    ).raise_for_status()
    destination = admin.post(
        f"{api}/destinations",
        json={"name": "CRM webhook", "kind": "webhook", "config": {"url": hook}},
    ).json()
    broken = admin.post(
        f"{api}/destinations",
        json={
            "name": "Old newsletter",
            "kind": "webhook",
            "config": {"url": hook.replace("/hook", "/broken")},
        },
    ).json()
    admin.post(
        f"{api}/members", json={"email": "mia@example.com", "role": "marketer"}
    ).raise_for_status()
    welcome = _welcome(int(destination["id"]))
    admin.post(
        f"{api}/journeys", json={"key": "welcome", "name": "Welcome", "document": welcome}
    ).raise_for_status()
    admin.post(f"{api}/journeys/welcome/publish", json={"note": "first"}).raise_for_status()
    admin.post(
        f"{api}/tokens", json={"name": "nightly export", "role": "analyst", "expires_in_days": 90}
    ).raise_for_status()
    people = [("ada", "ada@example.com", "pro"), ("bo", "bo@example.com", "free")]
    batch: list[dict[str, object]] = []
    for user, email, plan in people:
        batch.append({"type": "identify", "userId": user, "traits": {"email": email, "plan": plan}})
        for event in ("Product Viewed", "Product Viewed", "Order Completed"):
            batch.append(
                {"type": "track", "userId": user, "event": event, "properties": {"total": 42}}
            )
    batch.append({"type": "track", "event": "Missing User"})  # a rejection to look at
    # a violation flagged, and an unplanned event held in quarantine
    batch.append({"type": "track", "userId": "bo", "event": "Order Completed", "properties": {}})
    batch.append({"type": "track", "userId": "bo", "event": "Coupon Applied"})
    # fields that look personal, for the PII inbox
    phone = {"phone": "+44 20 7946 0958", "home": "51.5072, -0.1276"}
    batch.append({"type": "identify", "userId": "ada", "traits": phone})
    sent = httpx.post(f"{base}/v1/batch", auth=(source["write_key"], ""), json={"batch": batch})
    sent.raise_for_status()
    buyers = {"type": "event", "event": "Order Completed"}
    admin.post(
        f"{api}/audiences",
        json={"key": "buyers", "name": "Buyers", "definition": {"version": 1, "condition": buyers}},
    ).raise_for_status()
    orders = {"version": 1, "kind": "counter", "event": "Order Completed"}
    admin.post(
        f"{api}/computed-traits", json={"key": "orders", "name": "Orders", "definition": orders}
    ).raise_for_status()
    vips = {"key": "vips", "name": "VIPs", "definition": {"version": 1, "list": True}}
    admin.post(f"{api}/audiences", json=vips).raise_for_status()
    time.sleep(3)  # the processor builds the profiles
    members = {"members": [{"user_id": "ada"}, {"email": "bo@example.com"}]}
    admin.post(f"{api}/audiences/vips/members", json=members).raise_for_status()
    found = admin.get(f"{api}/profiles", params={"identifier": "user_id:ada"}).json()
    # privacy: a person forgotten and one suppressed, an export, a PII rule, retention windows
    for kind, who in (("SUPPRESS_WITH_DELETE", "carl"), ("SUPPRESS_ONLY", "dee")):
        admin.post(
            f"{api}/regulations",
            json={"regulationType": kind, "subjectType": "USER_ID", "subjectIds": [who]},
        ).raise_for_status()
    admin.post(
        f"{api}/privacy/exports", json={"subject_type": "USER_ID", "subject_id": "ada"}
    ).raise_for_status()
    rule = {"name": "Emails", "path": "traits.email", "action": "hash"}
    admin.post(f"{api}/pii-rules", json=rule).raise_for_status()
    windows = [
        {"store": "events", "source_id": None, "days": 395},
        {"store": "rejections", "source_id": source["id"], "days": 30},
    ]
    admin.put(f"{api}/retention", json={"windows": windows}).raise_for_status()
    webhook = _seed_webhook(admin, base, api)
    empty_webhook = _seed_empty_webhook(admin, api)
    admin.close()
    return {
        "hook": webhook,
        "hook_empty": empty_webhook,
        "source": str(source["id"]),
        "write_key": str(source["write_key"]),
        "destination": str(destination["id"]),
        "broken": str(broken["id"]),
        "profile": str(found[0]["id"]) if found else "",
    }


_SHOP_QUERY = "SELECT id, email, plan, country FROM customers ORDER BY id"


def _seed_retl(base: str, url: str) -> Seeded:
    """A customer database (``shop``, beside Headwater's) with a model of it and a sync to
    profiles that ran once, one row failing (no email to identify it by)."""

    async def make_shop() -> None:
        parsed = make_url(url)
        options = {"host": parsed.query.get("host") or parsed.host, "port": parsed.port}
        admin = await asyncpg.connect(user=parsed.username, database="postgres", **options)
        await admin.execute("CREATE DATABASE shop")
        await admin.close()
        shop = await asyncpg.connect(user=parsed.username, database="shop", **options)
        await shop.execute(
            "CREATE TABLE customers (id int PRIMARY KEY, email text, plan text, country text);"
            " INSERT INTO customers SELECT n, 'customer' || n || '@example.com',"
            " (ARRAY['free', 'team', 'pro'])[n % 3 + 1], (ARRAY['DE', 'FR', 'GB'])[n % 3 + 1]"
            " FROM generate_series(1, 250) n; UPDATE customers SET email = NULL WHERE id = 42"
        )
        await shop.close()

    asyncio.run(make_shop())
    shop_url = make_url(url).set(database="shop").render_as_string(hide_password=False)
    admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    api = f"/api/v1/workspaces/{WORKSPACE}/reverse-etl"
    model = admin.post(
        f"{api}/models",
        json={
            "name": "Customers",
            "connection": shop_url,
            "query": _SHOP_QUERY,
            "primary_key": "id",
        },
    ).json()
    sync = admin.post(
        f"{api}/syncs",
        json={
            "name": "Customers to profiles",
            "model_id": model["id"],
            "target": "profiles",
            "message_type": "identify",
            "mapping": {"user_id": "email", "fields": {"plan": "plan", "country": "country"}},
            "schedule": {"kind": "cron", "expression": "0 6 * * *"},
        },
    ).json()
    admin.post(f"{api}/syncs/{sync['id']}/run").raise_for_status()
    while not (runs := admin.get(f"{api}/syncs/{sync['id']}/runs").json()) or (
        runs[0]["status"] == "running"
    ):
        time.sleep(0.5)
    admin.close()
    return {"sync": str(sync["id"]), "shop_url": shop_url}


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise SystemExit("Chromium is needed: apt-get install chromium")
    return found


def _shoot(base: str, seeded: Seeded, out: Path, only: str = "") -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        page = browser.new_page(base_url=base, viewport={"width": 1280, "height": 800})
        page.goto("/login")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.screenshot(path=str(out / "sign-in.png"))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/overview")
        for name, path, prepare in SCREENS:
            if only and not name.startswith(only):
                continue
            page.goto(f"/w/{WORKSPACE}/{path.format(**seeded)}")
            page.wait_for_timeout(1500)  # let the screen's queries and charts settle
            if prepare is not None:
                prepare(page, seeded)
                page.wait_for_timeout(300)
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
            print(f"  {name}.png")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/ui"))
    parser.add_argument("--only", default="", help="only the screens whose name starts so")
    arguments = parser.parse_args()
    with (
        fresh_database() as (url, data_dir),
        _receiver() as hook,
        # The reverse ETL screens read a database on the server's own PostgreSQL.
        serve_on(url, data_dir, run_processor="true", retl_allow_local_databases="true") as port,
    ):
        base = f"http://127.0.0.1:{port}"
        seeded = {**_seed(base, hook), **_seed_retl(base, url)}
        time.sleep(3)  # the processor builds profiles and delivers
        _shoot(base, seeded, arguments.out, arguments.only)
    print(f"screenshots in {arguments.out}")


if __name__ == "__main__":
    main()
