"""The journey editor's finer tasks: starting people by hand and seeing how it went, property
filters on the trigger and exit rules, a go-to's target chosen among the nodes further on,
the question before leaving unsaved changes, and a profile's journeys named by label."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Dialog, Page, expect

from tests.ui.conftest import World, serious_violations, sign_in

BY_HAND: dict[str, Any] = {
    "version": 1,
    "trigger": {"type": "manual"},
    "start": "pick",
    "nodes": {
        "pick": {
            "type": "random_split",
            "config": {"cohorts": [{"port": "a", "weight": 1}, {"port": "b", "weight": 1}]},
            "next": {"a": "wait", "b": "wait"},
            "label": "Pick a group",
            "position": {"x": 40, "y": -120},
        },
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


def test_people_are_started_by_hand_and_their_steps_named(page: Page, world: World) -> None:
    marketer = world.person("marketer", pii_read=True)
    base = _journeys(marketer.workspace)
    world.server.api("POST", base, json={"key": "winback", "name": "Win back", "document": BY_HAND})
    source = world.source(marketer.workspace)
    world.track(str(source["write_key"]), "Signed Up", user_id="ada")
    ada = world.profile(marketer.workspace, "user_id:ada")
    sign_in(page, marketer)
    page.goto(f"/w/{marketer.workspace}/journeys/winback")

    # a manual journey offers the start before it is live, and says what to do first
    start = page.get_by_role("button", name="Start for people…")
    expect(start).to_be_disabled()
    expect(page.get_by_text("Only a live journey starts people: publish it first.")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".page-header .badge")).to_have_text("Live")
    expect(start).to_be_enabled()
    start.click()

    dialog = page.get_by_role("dialog", name="Start people in “Win back”")
    confirm = dialog.get_by_role("button", name="Start 0 people")
    expect(confirm).to_be_disabled()
    dialog.get_by_label("User id, email or anonymous id").fill("ada")
    dialog.get_by_role("button", name="Find").click()
    dialog.get_by_role("list", name="Profiles found").get_by_role("button", name="Add").click()
    expect(dialog.get_by_role("list", name="Chosen profiles")).to_contain_text(ada["id"])
    dialog.get_by_label("Or paste profile ids").fill(f"prf_nobody\n{ada['id']}")
    properties = dialog.get_by_label("Properties (optional)")
    properties.fill('{"coupon": ')
    expect(dialog.get_by_text("This is not JSON yet")).to_be_visible()
    expect(dialog.get_by_role("button", name="Start 2 people")).to_be_disabled()
    properties.fill('{"coupon": "SPRING"}')
    assert serious_violations(page) == []
    dialog.get_by_role("button", name="Start 2 people").click()

    result = dialog.get_by_role("status", name="Start result")
    expect(result).to_contain_text("1 person started; 1 was not.")
    expect(result.get_by_role("list", name="Not started")).to_contain_text(
        "prf_nobody: no profile has this id in the workspace"
    )
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_have_count(0)
    ways = world.server.api(
        "GET", f"/api/v1/workspaces/{marketer.workspace}/profiles/{ada['id']}/journeys"
    )
    assert [w["journey"] for w in ways] == ["winback"]

    # the profile's journeys name the step by its label and type
    page.goto(f"/w/{marketer.workspace}/profiles/{ada['id']}?tab=journeys")
    journey = page.get_by_role("article", name="Journey winback")
    expect(journey).to_contain_text("waits at Wait a day", timeout=20_000)
    expect(journey.get_by_role("list", name="Steps")).to_contain_text("Pick a group Random split")


def test_trigger_and_exit_filters_and_a_go_to_target(page: Page, world: World) -> None:
    marketer = world.person("marketer")
    base = _journeys(marketer.workspace)
    document = {
        "version": 1,
        "trigger": {"type": "event", "event": "Signed Up"},
        "start": "wait",
        "nodes": {
            "wait": {
                "type": "delay",
                "config": {"duration": {"days": 1}},
                "next": {"out": "hop"},
                "label": "Wait a day",
                "position": {"x": 40, "y": 40},
            },
            "hop": {"type": "goto", "config": {"node": "wait"}, "position": {"x": 40, "y": 200}},
            "done": {"type": "exit", "label": "All done", "position": {"x": 300, "y": 200}},
        },
    }
    world.server.api("POST", base, json={"key": "loop", "name": "Loop", "document": document})
    sign_in(page, marketer)
    page.goto(f"/w/{marketer.workspace}/journeys/loop")
    # saved going back: the publish problem is said, and the picker says why it is wrong
    problems = page.get_by_role("region", name="2 problems to fix before publishing")
    expect(problems).to_contain_text("the journey goes back")

    side = page.get_by_role("complementary", name="Details")
    side.get_by_role("button", name="Edit hop").click()
    target = side.get_by_label("Goes to", exact=True)
    expect(target.locator("option")).to_have_text(
        ["Choose a node further on", "All done (done)", "Wait a day: goes back, not allowed"]
    )
    target.select_option(label="All done (done)")
    side.get_by_role("button", name="Back to the journey").click()

    side.get_by_label("Trigger event: name").fill("Order Completed")
    side.get_by_role("button", name="+ Property filter (Trigger event)").click()
    side.get_by_label("Trigger event, filter 1: property").fill("total")
    side.get_by_label("Trigger event, filter 1: comparison").select_option("greater_than")
    side.get_by_label("Trigger event, filter 1: value").fill("50")
    side.get_by_role("button", name="Add an exit event").click()
    side.get_by_label("Exit event 1: name").fill("Unsubscribed")
    side.get_by_role("button", name="+ Property filter (Exit event 1)").click()
    side.get_by_label("Exit event 1, filter 1: property").fill("list")
    side.get_by_label("Exit event 1, filter 1: value", exact=True).fill("news")
    side.get_by_label("Exit event 1, filter 1: value", exact=True).blur()
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").filter(has_text="Draft saved")).to_be_visible()
    expect(page.get_by_text("problem to fix before publishing")).to_have_count(0)
    # the jump is drawn on the canvas
    expect(page.locator(".react-flow__edge.journey-jump")).to_have_count(1)

    draft = world.server.api("GET", base + "/loop")["draft"]
    assert draft["nodes"]["hop"]["config"] == {"node": "done"}
    assert draft["trigger"] == {
        "type": "event",
        "event": "Order Completed",
        "where": [{"property": "total", "operator": "greater_than", "value": 50}],
    }
    assert draft["exits"] == [
        {
            "event": "Unsubscribed",
            "where": [{"property": "list", "operator": "equals", "value": "news"}],
        }
    ]


def test_leaving_unsaved_changes_asks_first(page: Page, world: World) -> None:
    marketer = world.person("marketer")
    base = _journeys(marketer.workspace)
    world.server.api("POST", base, json={"key": "nudge", "name": "Nudge", "document": BY_HAND})
    sign_in(page, marketer)
    page.goto(f"/w/{marketer.workspace}/journeys/nudge")
    state = page.get_by_role("status").filter(has_text="saved")
    expect(state).to_have_text("Draft saved")
    side = page.get_by_role("complementary", name="Details")
    side.get_by_role("button", name="Edit Wait a day").click()
    side.get_by_label("Label", exact=True).fill("Wait a while")
    expect(page.get_by_role("status").filter(has_text="Unsaved changes")).to_be_visible()

    journeys = page.get_by_role("navigation", name="Main").get_by_role("link", name="Journeys")
    journeys.click()
    question = page.get_by_role("alertdialog", name="Leave without saving?")
    expect(question).to_be_visible()
    assert serious_violations(page) == []
    question.get_by_role("button", name="Stay and keep editing").click()
    expect(question).to_have_count(0)
    expect(side.get_by_label("Label", exact=True)).to_have_value("Wait a while")

    # closing the tab has the browser ask (dismissed: the page stays)
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"]
    assert not page.is_closed()

    journeys.click()
    question.get_by_role("button", name="Leave without saving").click()
    expect(page.get_by_role("region", name="Journeys")).to_contain_text("Nudge")
    draft = world.server.api("GET", base + "/nudge")["draft"]
    assert draft["nodes"]["wait"]["label"] == "Wait a day"
