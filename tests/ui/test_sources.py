"""A developer adds a source, copies its set-up, and watches events arrive live from the
official Segment Python SDK."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect
from segment.analytics.client import Client as SegmentClient

from tests.ui.conftest import World, sign_in
from tests.ui.test_analytics_js import DOC_HOST, DOC_KEY, documented_snippet


def test_a_developer_adds_a_source_and_sees_its_events_live(page: Page, world: World) -> None:
    developer = world.person("developer")
    sign_in(page, developer)
    page.get_by_role("link", name="Sources").click()
    expect(page.get_by_role("heading", name="No source yet")).to_be_visible()
    page.get_by_role("button", name="Add a source").click()
    page.get_by_label("Name").fill("Web shop")
    page.get_by_role("button", name="Create source").click()

    expect(page.get_by_role("heading", name="Web shop")).to_be_visible()
    write_key = page.get_by_label("write key", exact=True).inner_text()
    assert len(write_key) >= 16
    page.get_by_role("button", name="Python").click()
    snippet = page.get_by_label("Python set-up", exact=True).inner_text()
    assert f'analytics.write_key = "{write_key}"' in snippet
    assert f'analytics.host = "{world.server.url}"' in snippet
    page.get_by_role("button", name="Website (snippet)").click()
    snippet = page.get_by_label("Website (snippet) set-up", exact=True).inner_text()
    documented = documented_snippet().replace(DOC_HOST, f'"{world.server.url}"')
    assert snippet.strip() == documented.replace(DOC_KEY, f'"{write_key}"').strip()

    page.get_by_role("tab", name="Live events").click()
    expect(page.get_by_role("status").filter(has_text="Listening")).to_be_visible()
    client = SegmentClient(write_key, host=world.server.url, sync_mode=True)
    client.track(user_id="ada", event="Checkout Started", properties={"total": 42})
    acknowledged = time.monotonic()
    events = page.get_by_role("list", name="Events, newest first")
    expect(events.get_by_role("button", name="Checkout Started · ada")).to_be_visible(timeout=5000)
    shown_after = time.monotonic() - acknowledged
    assert shown_after < 5, shown_after
    events.get_by_role("button", name="Checkout Started · ada").click()
    page.get_by_role("button", name="Raw").click()
    expect(page.get_by_label("Selected event")).to_contain_text('"total": 42')

    page.get_by_role("tab", name="Observed schema").click()
    # the tab shows once its schema is read (the live feed stays until then)
    schema = page.get_by_role("tabpanel").get_by_text("Checkout Started", exact=True)
    expect(schema).to_be_visible(timeout=30_000)


def test_rejections_say_why(page: Page, world: World) -> None:
    developer = world.person("developer")
    source = world.source(developer.workspace)
    # no userId nor anonymousId: refused with its reason, never stored
    response = page.request.post(
        "/v1/batch",
        headers={"Authorization": _basic(str(source["write_key"]))},
        data={"batch": [{"type": "track", "event": "Lost"}]},
    )
    assert response.status in (200, 400)
    sign_in(page, developer)
    page.goto(f"/w/{developer.workspace}/sources/{source['id']}?tab=rejections")
    expect(page.get_by_role("list", name="Rejected events")).to_contain_text("userId")


def _basic(write_key: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()


def test_the_debugger_shows_what_was_not_stored_and_why(page: Page, world: World) -> None:
    developer = world.person("developer")
    source = world.source(developer.workspace)
    # a plan that flags: a Paid event without its total is let through with its violations
    base = f"/api/v1/workspaces/{developer.workspace}"
    paid = {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]}
    plan = {"name": "Shop", "events": [{"name": "Paid", "schema": paid}]}
    world.server.api("POST", f"{base}/tracking-plans", json=plan)
    connect = {"plan": "shop", "settings": {"violations": "flag"}}
    world.server.api("PUT", f"{base}/sources/{source['id']}/tracking-plan", json=connect)
    sign_in(page, developer)
    page.goto(f"/w/{developer.workspace}/sources/{source['id']}?tab=live")
    expect(page.get_by_role("status").filter(has_text="Listening")).to_be_visible()
    auth = {"Authorization": _basic(str(source["write_key"]))}
    retry = {"userId": "bo", "event": "Paid", "messageId": "retry-1"}
    for _ in range(2):
        assert page.request.post("/v1/track", headers=auth, data=retry).ok
    assert page.request.post("/v1/track", headers=auth, data={"event": "Nobody"}).ok

    events = page.get_by_role("list", name="Events, newest first")
    expect(events.get_by_role("button").filter(has_text="stored")).to_have_count(1)
    duplicate = events.get_by_role("button").filter(has_text="duplicate")
    expect(duplicate).to_contain_text("Paid · bo")
    duplicate.click()
    expect(page.get_by_label("Selected event")).to_contain_text("dedup window")
    events.get_by_role("button").filter(has_text="rejected").click()
    expect(page.get_by_label("Selected event")).to_contain_text("userId")
    flagged = events.get_by_role("button").filter(has_text="flagged")
    expect(flagged).to_contain_text("Paid · bo")
    flagged.click()
    detail = page.get_by_label("Selected event")
    expect(detail).to_contain_text("despite violations")
    detail.get_by_text("Violations of the tracking plan").click()
    expect(detail.locator("pre")).to_contain_text("required_missing")
    expect(detail.locator("pre")).to_contain_text("properties.total")

    page.get_by_label("Search").fill("Nobody")
    expect(events.get_by_role("button")).to_have_count(1)
    page.get_by_role("button", name="Pause").click()
    assert page.request.post("/v1/track", headers=auth, data={"userId": "cy", "event": "Late"}).ok
    expect(page.get_by_text("1 event arrived while paused")).to_be_visible()


def _remote_plugins(world: World, write_key: str) -> list[str]:
    settings = world.server.api("GET", f"/v1/projects/{write_key}/settings")
    return [plugin["name"] for plugin in settings["remotePlugins"]]


def test_a_developer_adds_a_browser_plugin_and_turns_it_off(page: Page, world: World) -> None:
    developer = world.person("developer")
    source = world.server.api(
        "POST",
        f"/api/v1/workspaces/{developer.workspace}/sources",
        json={"name": "Web shop", "kind": "client"},
    )
    sign_in(page, developer)
    page.goto(f"/w/{developer.workspace}/sources/{source['id']}?tab=plugins")
    expect(page.get_by_role("heading", name="No browser plugin")).to_be_visible()
    page.get_by_role("button", name="Add a browser plugin").click()
    page.get_by_label("Name", exact=True).fill("Chat")
    page.get_by_label("Function name").fill("chatPlugin")
    page.get_by_label("Script").fill("/device-mode/chat.js")
    page.get_by_label("Settings (JSON)").fill('{"appId": "a1",}')
    page.get_by_role("button", name="Add plugin").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid JSON")
    page.get_by_label("Settings (JSON)").fill('{"appId": "a1"}')
    page.get_by_role("button", name="Add plugin").click()

    plugins = page.get_by_role("table", name="Browser plugins")
    expect(plugins).to_contain_text("Loaded on pages")
    assert _remote_plugins(world, str(source["write_key"])) == ["Chat"]

    page.get_by_role("button", name="Turn off Chat").click()
    expect(plugins).to_contain_text("Off")
    deadline = time.monotonic() + 30  # other server processes read it again within seconds
    while _remote_plugins(world, str(source["write_key"])):
        assert time.monotonic() < deadline, "the plugin is still listed"
        time.sleep(0.5)
