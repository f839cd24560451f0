"""The overview: events in, what needs attention, events out."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.ui.conftest import World, sign_in


def test_an_analyst_sees_the_day_s_events_and_a_destination_in_trouble(
    page: Page, world: World
) -> None:
    analyst = world.person("analyst")
    source = world.source(analyst.workspace)
    for event in ("Signed Up", "Paid", "Paid"):
        world.track(str(source["write_key"]), event)
    # accepted by the tracking API (as Segment does) and recorded as a rejection
    nameless = httpx.post(
        f"{world.server.url}/v1/track",
        auth=(str(source["write_key"]), ""),
        json={"userId": "user-1", "event": ""},
        timeout=30,
    )
    assert nameless.status_code == 200, nameless.text
    hook = world.server.api(
        "POST",
        f"/api/v1/workspaces/{analyst.workspace}/destinations",
        json={"name": "Old CRM", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/"}},
    )
    world.server.api(
        "POST", f"/api/v1/workspaces/{analyst.workspace}/destinations/{hook['id']}/disable"
    )
    sign_in(page, analyst)

    incoming = page.get_by_role("region", name="Events in, last 24 hours")
    expect(incoming.locator(".tile").filter(has_text="Stored")).to_contain_text("3")
    expect(incoming.get_by_role("img", name="Events in per hour")).to_be_visible()
    attention = page.get_by_role("region", name="Needs attention")
    expect(attention).to_contain_text("Old CRM is disabled")
    expect(
        attention.get_by_role("link", name="1 message rejected in the last 24 hours")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Events out (last 24 hours)")).to_be_visible()


def test_a_new_workspace_says_how_to_start(page: Page, world: World) -> None:
    developer = world.person("developer")
    sign_in(page, developer)
    expect(page.get_by_role("heading", name="No events in the last day")).to_be_visible()
    page.get_by_role("link", name="Add a source").click()
    page.wait_for_url(f"**/w/{developer.workspace}/sources")
    expect(page.get_by_role("region", name="Needs attention")).to_have_count(0)


def test_a_workspace_with_a_source_but_no_event_says_to_send_one(page: Page, world: World) -> None:
    developer = world.person("developer")
    source = world.source(developer.workspace, name="Shop")
    sign_in(page, developer)
    expect(page.get_by_role("heading", name="No events in the last day")).to_be_visible()
    expect(page.get_by_role("link", name="Add a source")).to_have_count(0)
    page.get_by_role("link", name="Send an event").click()
    page.wait_for_url(f"**/w/{developer.workspace}/sources/{source['id']}?tab=setup")
    expect(page.get_by_role("tab", name="Set up")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_text(str(source["write_key"])).first).to_be_visible()

    page.go_back()
    world.track(str(source["write_key"]), "Signed Up")
    incoming = page.get_by_role("region", name="Events in, last 24 hours")
    expect(incoming.locator(".tile").filter(has_text="Stored")).to_contain_text("1", timeout=30_000)
