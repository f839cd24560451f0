"""The journey editor's test run in the web app: a marketer walks a sample through the draft on
the canvas (unsaved changes included), reads the path step by step, sees it highlighted on the
canvas, and is told in plain words what is wrong with a sample; nothing is sent."""

from __future__ import annotations

import os
from typing import Any

from playwright.sync_api import Page, expect

from tests.destinations.sink import Sink
from tests.ui.conftest import World, serious_violations, sign_in


def _welcome(hook: str) -> dict[str, Any]:
    return {
        "version": 1,
        "trigger": {"type": "event", "event": "Signed Up"},
        "exits": [{"event": "Unsubscribed"}],
        "start": "wait",
        "nodes": {
            "wait": {
                "type": "wait_event",
                "label": "Wait for an order",
                "config": {
                    "events": [{"port": "bought", "event": "Order Completed"}],
                    "timeout": {"days": 3},
                },
                "next": {"bought": "thanks", "timeout": "remind"},
                "position": {"x": 200, "y": 20},
            },
            "thanks": {
                "type": "webhook",
                "label": "Thank them",
                "config": {"url": hook, "body": {"hi": "Thank you, {{ traits.first_name }}!"}},
                "next": {"out": "done"},
                "position": {"x": 40, "y": 200},
            },
            "remind": {
                "type": "update_traits",
                "label": "Mark as reminded",
                "config": {"updates": [{"op": "set", "trait": "reminded", "value": True}]},
                "next": {"out": "done"},
                "position": {"x": 380, "y": 200},
            },
            "done": {"type": "exit", "position": {"x": 200, "y": 380}},
        },
    }


def test_a_marketer_test_runs_a_journey_and_sees_its_path(page: Page, world: World) -> None:
    marketer = world.person("marketer")
    base = f"/api/v1/workspaces/{marketer.workspace}/journeys"
    with Sink() as sink:
        body = {"key": "welcome", "name": "Welcome", "document": _welcome(sink.url)}
        world.server.api("POST", base, json=body)
        sign_in(page, marketer)
        page.goto(f"/w/{marketer.workspace}/journeys/welcome")
        page.get_by_role("button", name="Test run").click()
        panel = page.get_by_role("region", name="Test run")
        event = panel.get_by_label("Sample event (a Segment message)")
        expect(event).to_have_value(
            '{\n  "type": "track",\n  "userId": "user-1",\n  "event": "Signed Up",\n'
            '  "properties": {}\n}'
        )

        # a sample's traits that are not JSON: said in plain words, nothing run
        panel.get_by_label("Traits (JSON)").fill("{first_name: Ada}")
        panel.get_by_role("button", name="Run the test").click()
        expect(panel.get_by_role("alert")).to_have_text(
            "Check the traits: it is not valid JSON (look at its quotes, commas and braces)."
        )
        panel.get_by_label("Traits (JSON)").fill('{"first_name": "Ada"}')

        # the order comes two hours after the entry: thanked
        panel.get_by_role("button", name="Add a later event").click()
        later = panel.get_by_role("group", name="Later event 1")
        later.get_by_label("Message").fill(
            '{"type": "track", "userId": "user-1", "event": "Order Completed"}'
        )
        panel.get_by_role("button", name="Run the test").click()
        path = panel.get_by_role("list", name="Path")
        expect(path.get_by_role("listitem")).to_have_count(3)
        expect(path.get_by_role("listitem").nth(0)).to_contain_text(
            "Event 'Order Completed' at +2 hours"
        )
        expect(path.get_by_role("listitem").nth(0)).to_contain_text("+2 h")
        thanks = path.get_by_role("listitem").nth(1)
        expect(thanks).to_contain_text("Would call POST http://")
        thanks.get_by_text("Would call POST").click()
        expect(thanks.locator("pre")).to_contain_text('"hi": "Thank you, Ada!"')
        expect(panel.get_by_role("status")).to_contain_text(
            "Outcome: It completed the journey at an exit."
        )
        visited = page.locator(".react-flow__node.visited")
        expect(visited).to_have_count(3)
        expect(page.locator('.react-flow__node.visited[data-id="remind"]')).to_have_count(0)
        expect(page.locator(".react-flow__edge.visited")).to_have_count(2)
        assert serious_violations(page) == []
        if os.environ.get("HEADWATER_SHOTS"):
            page.screenshot(path=os.environ["HEADWATER_SHOTS"], full_page=True)

        # without the order, on the unsaved draft: the timeout, then the trait update
        later.get_by_role("button", name="Remove later event 1").click()
        page.get_by_role("button", name="Edit Mark as reminded").click()
        page.get_by_role("complementary", name="Details").get_by_label("Label", exact=True).fill(
            "Flag reminded"
        )
        panel.get_by_role("button", name="Run the test").click()
        expect(path.get_by_role("listitem").nth(0)).to_contain_text("Timed out after 3 days")
        expect(path.get_by_role("listitem").nth(1)).to_contain_text("Flag reminded")
        expect(path.get_by_role("listitem").nth(1)).to_contain_text("Would set reminded")
        expect(page.locator('.react-flow__node.visited[data-id="remind"]')).to_have_count(1)

        # an existing profile that does not exist
        panel.get_by_label("An existing profile").check()
        panel.get_by_label("Profile id or userId").fill("nobody")
        panel.get_by_role("button", name="Run the test").click()
        expect(panel.get_by_role("alert")).to_contain_text("No profile with userId 'nobody'")

        page.get_by_role("button", name="Close the test run").click()
        expect(page.locator(".react-flow__node.visited")).to_have_count(0)
        assert sink.requests == []
    journey = world.server.api("GET", f"{base}/welcome")
    assert journey["draft"]["nodes"]["remind"]["label"] == "Mark as reminded"  # never saved
