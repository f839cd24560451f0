"""Journeys in the web app: a marketer draws one on the canvas, saves it, fixes what stops it
from being published and publishes it; someone else's save is told, not overwritten; an analyst
sees journeys read only."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Page, expect
from segment.analytics.client import Client as SegmentClient

from tests.destinations.sink import Sink
from tests.ui.conftest import World, sign_in

SMALL: dict[str, Any] = {
    "version": 1,
    "trigger": {"type": "event", "event": "Signed Up"},
    "start": "wait",
    "nodes": {
        "wait": {
            "type": "delay",
            "config": {"duration": {"days": 1}},
            "next": {"out": "done"},
            "label": "Wait a day",
            "position": {"x": 40, "y": 40},
        },
        "done": {"type": "exit", "position": {"x": 40, "y": 200}},
    },
}


def _journeys(workspace: str) -> str:
    return f"/api/v1/workspaces/{workspace}/journeys"


def _drag(page: Page, source: str, target: str) -> None:
    """A mouse drag on the canvas, from one element's centre to another's."""
    start = page.locator(source).bounding_box()
    end = page.locator(target).bounding_box()
    assert start is not None
    assert end is not None
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=10)
    page.mouse.up()


def test_a_marketer_draws_saves_fixes_and_publishes_a_journey(page: Page, world: World) -> None:
    marketer = world.person("marketer")
    sign_in(page, marketer)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Journeys").click()
    expect(page.get_by_role("heading", name="No journey yet")).to_be_visible()
    page.get_by_role("button", name="Create a journey").click()
    page.get_by_label("Name", exact=True).fill("Welcome")
    page.get_by_label("Key", exact=True).fill("welcome")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("heading", name="Welcome", exact=True)).to_be_visible()
    expect(page.get_by_text("Never published")).to_be_visible()

    palette = page.get_by_role("navigation", name="Add a node")
    palette.get_by_role("button", name="Delay", exact=True).click()
    side = page.get_by_role("complementary", name="Details")
    expect(side.get_by_role("heading", name="delay_1")).to_be_visible()
    side.get_by_label("Label", exact=True).fill("Wait two days")
    side.get_by_role("group", name="Duration").get_by_label("Days", exact=True).fill("2")
    # the exit is dragged from the palette onto the canvas
    palette.get_by_role("button", name="Exit", exact=True).drag_to(
        page.locator(".react-flow__pane"), target_position={"x": 200, "y": 300}
    )
    expect(side.get_by_role("heading", name="exit_1")).to_be_visible()
    side.get_by_role("button", name="Back to the journey").click()
    side.get_by_label("Starts when").select_option("event")
    side.get_by_label("Trigger event: name").fill("Signed Up")

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").filter(has_text="Draft saved")).to_be_visible()
    problems = page.get_by_role("region", name="1 problem to fix before publishing")
    expect(problems).to_contain_text("Wait two days")
    expect(problems).to_contain_text("leads nowhere")
    expect(page.get_by_role("button", name="Publish")).to_be_disabled()
    node = page.locator('.react-flow__node[data-id="delay_1"]')
    expect(node).to_contain_text("1 problem")

    # connect the delay's port "out" to the exit on the canvas, as a person drags it
    _drag(
        page,
        '.react-flow__node[data-id="delay_1"] .react-flow__handle[data-handleid="out"]',
        '.react-flow__node[data-id="exit_1"] .react-flow__handle.target',
    )
    side.get_by_role("button", name="Edit Wait two days").click()
    expect(side.get_by_label("Port “out” leads to")).to_have_value("exit_1")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").filter(has_text="Draft saved")).to_be_visible()
    expect(page.get_by_text("problem to fix before publishing")).to_have_count(0)
    expect(node).not_to_contain_text("problem")

    page.get_by_label("Note for this version").fill("first")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".page-header .badge")).to_have_text("Live")
    expect(page.get_by_text("Version 1", exact=True)).to_be_visible()
    page.get_by_role("button", name="Pause").click()
    expect(page.locator(".page-header .badge")).to_have_text("Paused")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator(".page-header .badge")).to_have_text("Live")

    exported = page.get_by_role("link", name="Export YAML").get_attribute("href")
    assert exported is not None
    answer = page.request.get(exported)
    assert answer.ok
    assert "Signed Up" in answer.text()
    assert "exit_1" in answer.text()

    journey = world.server.api("GET", _journeys(marketer.workspace) + "/welcome")
    assert (journey["state"], journey["version"], journey["problems"]) == ("live", 1, [])
    draft = journey["draft"]
    assert draft["trigger"] == {"type": "event", "event": "Signed Up"}
    assert draft["start"] == "delay_1"
    delay = draft["nodes"]["delay_1"]
    assert (delay["type"], delay["config"], delay["next"], delay["label"]) == (
        "delay",
        {"duration": {"days": 2}},
        {"out": "exit_1"},
        "Wait two days",
    )
    assert set(delay["position"]) == {"x", "y"}
    assert draft["nodes"]["exit_1"]["type"] == "exit"

    # the version switcher shows what was published, read only
    page.get_by_label("Showing").select_option("1")
    expect(page.get_by_text("You are looking at version 1, read only")).to_be_visible()
    expect(page.get_by_role("navigation", name="Add a node")).to_have_count(0)
    expect(page.get_by_role("button", name="Save draft")).to_have_count(0)


def test_someone_elses_save_is_told_and_can_be_reloaded(page: Page, world: World) -> None:
    marketer = world.person("marketer")
    base = _journeys(marketer.workspace)
    world.server.api("POST", base, json={"key": "nudge", "name": "Nudge", "document": SMALL})
    sign_in(page, marketer)
    page.goto(f"/w/{marketer.workspace}/journeys/nudge")
    expect(page.get_by_role("heading", name="Nudge", exact=True)).to_be_visible()

    theirs = {**SMALL, "trigger": {"type": "event", "event": "Logged In"}}
    world.server.api("PUT", base + "/nudge/draft", json={"revision": 1, "document": theirs})
    side = page.get_by_role("complementary", name="Details")
    side.get_by_label("Trigger event: name").fill("Signed Up Again")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("alert")).to_contain_text("Someone else saved this journey")
    page.get_by_role("button", name="Reload").click()
    expect(side.get_by_label("Trigger event: name")).to_have_value("Logged In")
    assert world.server.api("GET", base + "/nudge")["draft"]["trigger"]["event"] == "Logged In"


def test_an_analyst_sees_a_journey_read_only(page: Page, world: World) -> None:
    owner = world.person("owner")
    analyst = world.person("analyst", workspace=owner.workspace)
    base = _journeys(owner.workspace)
    world.server.api("POST", base, json={"key": "welcome", "name": "Welcome", "document": SMALL})
    world.server.api("POST", base + "/welcome/publish", json={})
    source = world.source(owner.workspace)
    world.track(str(source["write_key"]), "Signed Up", user_id="ada")
    sign_in(page, analyst)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Journeys").click()
    table = page.get_by_role("region", name="Journeys")
    expect(table).to_contain_text("Live")
    expect(page.get_by_role("button", name="Create a journey")).to_have_count(0)
    table.get_by_role("link", name="Welcome").click()

    expect(page.get_by_role("heading", name="Welcome", exact=True)).to_be_visible()
    wait = page.locator('.react-flow__node[data-id="wait"]')
    expect(wait).to_contain_text("Wait a day")
    # live figures: ada entered and waits in the delay
    expect(wait).to_contain_text("1 in · 1 here", timeout=20_000)
    expect(page.get_by_label("Figures")).to_contain_text("1 entered · 1 in progress")
    expect(page.get_by_role("navigation", name="Add a node")).to_have_count(0)
    for action in ("Save draft", "Publish", "Pause", "Archive"):
        expect(page.get_by_role("button", name=action)).to_have_count(0)
    side = page.get_by_role("complementary", name="Details")
    expect(side.get_by_label("Trigger event: name")).to_be_disabled()
    side.get_by_role("button", name="View Wait a day").click()
    expect(side.get_by_label("Label", exact=True)).to_be_disabled()
    expect(side.get_by_role("button", name="Start here")).to_have_count(0)
    handle = page.locator(
        '.react-flow__node[data-id="wait"] .react-flow__handle[data-handleid="out"]'
    )
    expect(handle).not_to_have_class("connectable")


def test_a_journey_built_on_the_canvas_greets_a_sign_up_sent_by_the_sdk(
    page: Page, world: World
) -> None:
    marketer = world.person("marketer")
    source = world.source(marketer.workspace)
    with Sink() as receiver:
        world.server.api(
            "POST",
            f"/api/v1/workspaces/{marketer.workspace}/destinations",
            json={"name": "Mailer", "kind": "webhook", "config": {"url": receiver.url}},
        )
        sign_in(page, marketer)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Journeys").click()
        page.get_by_role("button", name="Create a journey").click()
        page.get_by_label("Name", exact=True).fill("Greet")
        page.get_by_label("Key", exact=True).fill("greet")
        page.get_by_role("button", name="Create", exact=True).click()

        palette = page.get_by_role("navigation", name="Add a node")
        side = page.get_by_role("complementary", name="Details")
        palette.get_by_role("button", name="Send to a destination", exact=True).click()
        side.get_by_label("Destination", exact=True).select_option(label="Mailer")
        side.get_by_label("Event", exact=True).fill("Welcome")
        palette.get_by_role("button", name="Exit", exact=True).click()
        side.get_by_role("button", name="Back to the journey").click()
        side.get_by_role("button", name="Edit send_1").click()
        side.get_by_label("Port “out” leads to").select_option("exit_1")
        side.get_by_role("button", name="Back to the journey").click()
        side.get_by_label("Starts when").select_option("event")
        side.get_by_label("Trigger event: name").fill("Signed Up")
        page.get_by_role("button", name="Save draft").click()
        expect(page.get_by_role("status").filter(has_text="Draft saved")).to_be_visible()
        page.get_by_role("button", name="Publish").click()
        expect(page.locator(".page-header .badge")).to_have_text("Live")
        time.sleep(2.5)  # the processor reads live journeys anew every 2 s

        sdk = SegmentClient(
            write_key=str(source["write_key"]), host=world.server.url, sync_mode=True
        )
        sdk.track(user_id="ada", event="Signed Up", properties={"plan": "pro"})
        sdk.flush()

        deadline = time.monotonic() + 30
        greetings: list[Any] = []
        while not greetings and time.monotonic() < deadline:
            greetings = [
                r.json()
                for r in receiver.requests
                if r.json().get("event") == "Welcome" and r.json().get("userId") == "ada"
            ]
            time.sleep(0.2)
        assert len(greetings) == 1, [r.json() for r in receiver.requests]
        assert greetings[0]["context"]["journey"]["node"] == "send_1"
        # the canvas counts ada through the send and out of the journey
        expect(page.locator('.react-flow__node[data-id="send_1"]')).to_contain_text(
            "1 in · 0 here", timeout=20_000
        )
        expect(page.get_by_label("Figures")).to_contain_text(
            "1 entered · 0 in progress · 1 completed"
        )
