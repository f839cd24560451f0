"""Destinations in the web app, against a local HTTP receiver standing in for the vendor: a
developer adds a webhook through the form and sees events delivered; the receiver refuses, the
events dead-letter, and replaying them from the page delivers them; an analyst only reads."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import Any

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
