"""Destinations in the web app, against a local HTTP receiver standing in for the vendor: a
developer adds a webhook through the form and sees events delivered; the receiver refuses, the
events dead-letter, and replaying them from the page delivers them; the form sets sources,
filters, consent and delivery; one chosen dead letter is replayed alone; an analyst only reads."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import Any

import httpx
from playwright.sync_api import Dialog, Locator, Page, expect

from tests.destinations.sink import Recorded, Reply, Sink
from tests.ui.conftest import Person, World, serious_violations, sign_in

# The router reloads the enabled destinations every 2 s: an event sent sooner after a
# destination is created is not routed to it.
ROUTES_RELOAD = 2.5


class Receiver:
    """Accepts events, or refuses them for good (400) while ``refusing``."""

    def __init__(self) -> None:
        self.refusing = False

    def __call__(self, request: Recorded) -> Reply:
        return Reply(400, {"error": "invalid api key"}) if self.refusing else Reply(200, {})


def events(sink: Sink) -> list[str]:
    """The events the receiver accepted."""
    return [r.json()["event"] for r in sink.requests if r.json().get("event")]


def stage(page: Page, name: str) -> Locator:
    pipeline = page.get_by_role("list", name=re.compile("^Delivery pipeline"))
    return pipeline.get_by_role("listitem").filter(has=page.get_by_text(name, exact=True))


def accept(dialog: Dialog) -> None:
    dialog.accept()


def test_a_developer_adds_a_webhook_and_replays_its_dead_letters(page: Page, world: World) -> None:
    developer = world.person("developer")
    write_key = str(world.source(developer.workspace)["write_key"])
    receiver = Receiver()
    with Sink(receiver) as sink:
        sign_in(page, developer)
        page.get_by_role("link", name="Destinations").click()
        expect(page.get_by_role("heading", name="No destination yet")).to_be_visible()
        page.get_by_role("button", name="Add a destination").click()
        # the catalog names each product as its vendor spells it
        expect(page.get_by_role("button", name=re.compile(r"^Customer\.io"))).to_be_visible()
        # and says which forward a person's deletion to the vendor
        expect(page.get_by_role("button", name=re.compile(r"^Customer\.io"))).to_contain_text(
            "forwards deletions"
        )
        expect(page.get_by_role("button", name=re.compile("^Webhook"))).not_to_contain_text(
            "forwards deletions"
        )
        page.get_by_role("button", name=re.compile("^Webhook")).click()
        page.get_by_label("Name", exact=True).fill("Order hook")
        page.get_by_label("Url").fill(sink.url)
        page.get_by_label("Secret").fill("signing-key")
        assert serious_violations(page) == []  # the form rendered from the config's schema
        page.get_by_role("button", name="Create destination").click()
        expect(page.get_by_role("heading", name="Order hook")).to_be_visible()

        time.sleep(ROUTES_RELOAD)
        world.track(write_key, "Order Completed")
        world.track(write_key, "Order Shipped")
        expect(stage(page, "Delivered")).to_contain_text("2", timeout=15_000)
        expect(stage(page, "Received")).to_contain_text("2")
        assert sorted(events(sink)) == ["Order Completed", "Order Shipped"]
        assert all(r.headers["x-signature"].startswith("sha256=") for r in sink.requests)

        receiver.refusing = True
        world.track(write_key, "Order Refunded")
        expect(stage(page, "Failed")).to_contain_text("1", timeout=15_000)
        page.get_by_role("tab", name="Latest errors").click()
        errors = page.get_by_role("list", name="Latest errors")
        errors.get_by_text("Request and response").first.click()
        expect(errors).to_contain_text("invalid api key")
        assert serious_violations(page) == []  # the request and response in the JSON viewer

        page.get_by_role("tab", name="Dead letters").click()
        letters = page.get_by_role("list", name="Dead letters, newest first")
        expect(letters.get_by_text("Order Refunded", exact=True)).to_be_visible()
        receiver.refusing = False
        page.once("dialog", accept)
        page.get_by_role("button", name="Replay all dead letters").click()
        expect(page.get_by_role("status").filter(has_text="Replay done")).to_be_visible(
            timeout=15_000
        )
        assert events(sink).count("Order Refunded") == 2  # refused once, then accepted
        expect(page.get_by_role("heading", name="No dead letters")).to_be_visible(timeout=10_000)

        page.get_by_role("tab", name="Test send").click()
        page.get_by_role("button", name="Send a test event").click()
        expect(page.get_by_role("status", name="Test result")).to_contain_text("Delivered")


def test_settings_keep_the_secret_and_delete_says_what_happens(page: Page, world: World) -> None:
    developer = world.person("developer")
    with Sink() as sink:
        made = _webhook(world, developer, sink.url)
        sign_in(page, developer)
        page.goto(f"/w/{developer.workspace}/destinations/{made['id']}?tab=settings")
        expect(page.get_by_text("set, hidden")).to_be_visible()
        expect(page.get_by_label("Secret", exact=True)).to_have_count(
            0
        )  # never prefilled, not even masked
        page.get_by_label("Batch Size").fill("5")
        page.get_by_role("button", name="Save changes").click()
        expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
        saved = _get(world, developer, made["id"])
        assert saved["config"]["batch_size"] == 5
        assert saved["config"]["secret"] == {"set": True}, "the secret was kept"

        page.get_by_role("button", name="Replace Secret").click()
        page.get_by_label("Secret", exact=True).fill("new-key")
        page.get_by_role("button", name="Save changes").click()
        expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
        page.get_by_role("tab", name="Test send").click()
        page.get_by_role("button", name="Send a test event").click()
        expect(page.get_by_role("status", name="Test result")).to_contain_text("Delivered")
        sent = sink.requests[-1]
        signed = hmac.new(b"new-key", sent.body, hashlib.sha256).hexdigest()
        assert sent.headers["x-signature"] == f"sha256={signed}", "signed with the new secret"

        questions: list[str] = []

        def answer(dialog: Dialog) -> None:
            questions.append(dialog.message)
            dialog.accept()

        page.once("dialog", answer)
        page.get_by_role("button", name="Delete").click()
        expect(page.get_by_role("heading", name="No destination yet")).to_be_visible()
        assert "undelivered event" in questions[0]
        assert "cannot be undone" in questions[0]


def test_an_analyst_reads_but_is_offered_no_change(page: Page, world: World) -> None:
    analyst = world.person("analyst")
    made = _webhook(world, analyst, "http://127.0.0.1:9/nowhere")
    sign_in(page, analyst)
    page.get_by_role("link", name="Destinations").click()
    expect(page.get_by_role("link", name="Hook")).to_be_visible()
    expect(page.get_by_role("button", name="Add a destination")).to_have_count(0)
    page.get_by_role("link", name="Hook").click()
    expect(page.get_by_role("heading", name="Hook")).to_be_visible()
    expect(stage(page, "Delivered")).to_be_visible()
    for control in ("Disable", "Delete", re.compile("^Replay")):
        expect(page.get_by_role("button", name=control)).to_have_count(0)
    expect(page.get_by_role("tab", name="Test send")).to_have_count(0)
    page.get_by_role("tab", name="Settings").click()
    expect(page.get_by_role("button", name="Save changes")).to_have_count(0)
    expect(page.get_by_role("region", name="Configuration")).to_contain_text("set")
    page.get_by_role("tab", name="Dead letters").click()
    expect(page.get_by_role("heading", name="No dead letters")).to_be_visible()
    assert made["enabled"] is True


def test_the_form_sends_only_the_chosen_source_and_events(page: Page, world: World) -> None:
    developer = world.person("developer")
    website = world.source(developer.workspace, "Website")
    app = world.source(developer.workspace, "App")
    with Sink() as sink:
        sign_in(page, developer)
        page.goto(f"/w/{developer.workspace}/destinations/new")
        page.get_by_role("button", name=re.compile("^Webhook")).click()
        page.get_by_label("Name", exact=True).fill("Orders only")
        page.get_by_label("Url").fill(sink.url)
        page.get_by_label("Only the sources ticked below").check()
        page.get_by_role("group", name="Sources sent from").get_by_label("Website").check()
        page.get_by_label("Only these track events").fill("Order Completed")
        page.get_by_label("The categories ticked below").check()
        consent = page.get_by_role("group", name="Consent categories needed")
        consent.get_by_label("Marketing", exact=True).check()
        page.get_by_label("Another category").fill("Newsletter")
        page.get_by_role("button", name="Add category").click()
        page.get_by_text("Delivery options").click()
        page.get_by_label("Keep retrying a failed event for (minutes)").fill("30")
        assert serious_violations(page) == []
        page.get_by_role("button", name="Create destination").click()
        expect(page.get_by_role("heading", name="Orders only")).to_be_visible()
        made = _get(world, developer, int(page.url.rsplit("/", 1)[-1].split("?")[0]))
        assert made["sources"] == [website["id"]]
        assert made["categories"] == ["Marketing", "Newsletter"]
        assert made["delivery"]["retry_window_seconds"] == 1800

        time.sleep(ROUTES_RELOAD)
        world.track(str(app["write_key"]), "Order Completed", user_id="app-user")
        world.track(str(website["write_key"]), "Cart Viewed", user_id="web-user")
        world.track(str(website["write_key"]), "Order Completed", user_id="web-user")
        expect(stage(page, "Filtered by a filter")).to_contain_text("1", timeout=15_000)
        expect(stage(page, "Delivered")).to_contain_text("1", timeout=15_000)
        time.sleep(1)  # room for an event that should not arrive
        assert [(r.json()["event"], r.json()["userId"]) for r in sink.requests] == [
            ("Order Completed", "web-user")
        ]

        page.get_by_role("tab", name="Settings").click()
        expect(page.get_by_label("Only these track events")).to_have_value("Order Completed")
        expect(page.get_by_label("Newsletter")).to_be_checked()
        page.get_by_label("All sources, also those added later").check()
        page.get_by_label("Send events to this destination", exact=False).uncheck()
        page.get_by_role("button", name="Save changes").click()
        expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
        saved = _get(world, developer, made["id"])
        assert (saved["sources"], saved["enabled"]) == (None, False)
        assert saved["categories"] == ["Marketing", "Newsletter"], "consent kept as saved"


def test_a_bad_filter_is_named_in_plain_words(page: Page, world: World) -> None:
    developer = world.person("developer")
    with Sink() as sink:
        made = _webhook(world, developer, sink.url)
        sign_in(page, developer)
        page.goto(f"/w/{developer.workspace}/destinations/{made['id']}?tab=settings")
        page.get_by_role("button", name="Edit the filters as JSON").click()
        filters = page.get_by_label("Filters as JSON")
        filters.fill('[{"type": "sample"')
        expect(page.get_by_role("button", name="Save changes")).to_be_disabled()
        filters.fill('[{"type": "drop", "when": {"field": "event", "op": "equals", "value": "x"}}]')
        page.get_by_role("button", name="Save changes").click()
        problems = page.get_by_role("list", name="What to fix").get_by_role("listitem")
        # one problem, in the shape meant (a comparison), not one per shape a condition may take
        expect(problems).to_have_count(1)
        expect(problems).to_contain_text("Filter 1 (drop › when › op)")
        assert serious_violations(page) == []
        assert _get(world, developer, made["id"])["filters"] == []

        filters.fill(
            '[{"type": "drop", "when": {"field": "properties.plan", "op": "eq", "value": "free"}}]'
        )
        page.get_by_role("button", name="Save changes").click()
        expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
        stored = _get(world, developer, made["id"])["filters"]
        assert stored == [
            {"type": "drop", "when": {"field": "properties.plan", "op": "eq", "value": "free"}}
        ]
        # a condition the simple form cannot say stays in JSON
        expect(page.get_by_label("Filters as JSON")).to_be_visible()


def test_one_chosen_dead_letter_is_replayed_alone(page: Page, world: World) -> None:
    developer = world.person("developer")
    write_key = str(world.source(developer.workspace)["write_key"])
    receiver = Receiver()
    receiver.refusing = True
    with Sink(receiver) as sink:
        made = _webhook(world, developer, sink.url)
        time.sleep(ROUTES_RELOAD)
        names = [f"Order {n}" for n in range(52)]  # more than a page of dead letters
        _batch(world, write_key, names)
        sign_in(page, developer)
        page.goto(f"/w/{developer.workspace}/destinations/{made['id']}?tab=dead-letters")
        letters = page.get_by_role("list", name="Dead letters, newest first")
        expect(letters.get_by_role("listitem")).to_have_count(50, timeout=20_000)
        page.get_by_role("button", name="Load more").click()
        expect(letters.get_by_role("listitem")).to_have_count(52, timeout=20_000)
        expect(page.get_by_role("button", name="Load more")).to_have_count(0)
        refused = len(sink.requests)

        receiver.refusing = False
        page.get_by_label(re.compile(r"^Select Order 7 \(")).check()
        page.get_by_role("button", name="Replay selected (1)").click()
        expect(page.get_by_role("status").filter(has_text="Replay done")).to_be_visible(
            timeout=15_000
        )
        expect(letters.get_by_role("listitem")).to_have_count(51, timeout=10_000)
        expect(letters.get_by_text("Order 7", exact=True)).to_have_count(0)
        assert events(sink)[refused:] == ["Order 7"]
    left = world.server.api(
        "GET",
        f"/api/v1/workspaces/{developer.workspace}/destinations/{made['id']}/dead-letters",
        params={"limit": 100},
    )
    assert sorted(d["payload"]["event"] for d in left) == sorted(set(names) - {"Order 7"})


def _batch(world: World, write_key: str, names: list[str]) -> None:
    """Track events in one request (one call each would be slow)."""
    batch = [{"type": "track", "userId": "user-1", "event": name} for name in names]
    response = httpx.post(
        f"{world.server.url}/v1/batch", auth=(write_key, ""), json={"batch": batch}, timeout=30
    )
    assert response.status_code == 200, response.text


def _webhook(world: World, person: Person, url: str) -> dict[str, Any]:
    made: dict[str, Any] = world.server.api(
        "POST",
        f"/api/v1/workspaces/{person.workspace}/destinations",
        json={"name": "Hook", "kind": "webhook", "config": {"url": url, "secret": "k1"}},
    )
    return made


def _get(world: World, person: Person, destination_id: int) -> dict[str, Any]:
    found: dict[str, Any] = world.server.api(
        "GET", f"/api/v1/workspaces/{person.workspace}/destinations/{destination_id}"
    )
    return found
