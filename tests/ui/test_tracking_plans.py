"""A developer drafts a tracking plan from what a source sends, tightens it, enforces it, and
deals with the event it blocks; an analyst reads plans without being offered any change."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.ui.conftest import World, sign_in

ORDER = {"type": "track", "userId": "ada", "event": "Order Completed"}


def _send(world: World, write_key: str, *messages: dict[str, Any]) -> None:
    response = httpx.post(
        f"{world.server.url}/v1/batch",
        auth=(write_key, ""),
        json={"batch": list(messages)},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def _observed(world: World, workspace: str, source: object) -> None:
    """Wait until the processor has observed the events sent (the draft is drafted from them)."""
    path = f"/api/v1/workspaces/{workspace}/sources/{source}/observed-schema"
    deadline = time.monotonic() + 20
    while not any(e["name"] == "Order Completed" for e in world.server.api("GET", path)):
        assert time.monotonic() < deadline, "the processor never observed the events"
        time.sleep(0.2)


def test_a_developer_drafts_enforces_and_forwards_a_blocked_event(page: Page, world: World) -> None:
    developer = world.person("developer")
    shop = world.source(developer.workspace, "Web shop")
    world.source(developer.workspace, "Staging")
    write_key = str(shop["write_key"])
    _send(
        world,
        write_key,
        ORDER | {"properties": {"order_id": "o1", "total": 10}},
        ORDER | {"properties": {"order_id": "o2", "total": 12.5, "coupon": "SPRING"}},
    )
    _observed(world, developer.workspace, shop["id"])

    sign_in(page, developer)
    page.get_by_role("link", name="Tracking plans").click()
    expect(page.get_by_role("heading", name="No tracking plan yet")).to_be_visible()
    page.get_by_label("Source", exact=True).select_option(label="Web shop")
    page.get_by_role("button", name="Draft one from what a source already sends").click()
    page.get_by_label("Plan name").fill("Shop plan")
    expect(page.get_by_role("region", name="Draft")).to_contain_text("Order Completed")
    page.get_by_role("button", name="Create plan").click()

    expect(page.get_by_role("heading", name="Shop plan")).to_be_visible()
    expect(page.get_by_text("Version 1", exact=True)).to_be_visible()
    # drafted: present in every order, so required; the coupon was not, so optional
    expect(page.get_by_role("checkbox", name="order_id is required")).to_be_checked()
    coupon = page.get_by_role("checkbox", name="coupon is required")
    expect(coupon).not_to_be_checked()
    coupon.check()
    page.get_by_label("What changed").fill("coupon is now required")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_text("Version 2", exact=True)).to_be_visible()
    expect(page.get_by_role("checkbox", name="coupon is required")).to_be_checked()

    page.get_by_role("tab", name="Versions").click()
    versions = page.get_by_role("table", name="Versions")
    expect(versions).to_contain_text("coupon is now required")
    changes = page.get_by_role("region", name="Changes from version 1 to 2")
    expect(changes).to_contain_text("coupon: now required (was optional)")
    expect(changes).to_contain_text("breaking")

    page.get_by_role("tab", name="Sources").click()
    card = page.get_by_role("form", name=re.compile("^Web shop"))
    card.get_by_label("When an event breaks its schema").select_option("block")
    card.get_by_role("button", name="Connect").click()
    expect(card).to_contain_text("Connected to this plan")

    _send(
        world,
        write_key,
        ORDER | {"messageId": "no-coupon", "properties": {"order_id": "o3", "total": 7}},
    )

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tracking plans").click()
    page.get_by_role("tab", name="Violations").click()
    violations = page.get_by_role("list", name="Violations in the last 24 hours")
    expect(violations).to_contain_text("Required property missing", timeout=25_000)
    expect(violations).to_contain_text("properties.coupon")
    violations.get_by_text("1 sample").click()
    expect(violations.get_by_role("group", name="Sample 1")).to_contain_text("no-coupon")

    page.get_by_role("tab", name="Quarantine").click()
    blocked = page.get_by_role("list", name="Blocked events")
    expect(blocked).to_contain_text("Required property missing")
    page.get_by_role("checkbox", name="Select Order Completed (no-coupon)").check()
    page.get_by_label("Forward to").select_option(label="Staging")
    page.get_by_role("button", name="Forward selected").click()
    expect(page.get_by_role("status").filter(has_text="1 event(s) forwarded")).to_be_visible()
    expect(page.get_by_role("heading", name="The quarantine is empty")).to_be_visible()
    page.get_by_label("Show").select_option("all")
    expect(blocked).to_contain_text("forwarded")


PLAN = {
    "name": "Web",
    "events": [
        {
            "name": "Signed Up",
            "schema": {
                "type": "object",
                "properties": {"plan": {"type": "string", "enum": ["free", "pro"]}},
                "required": ["plan"],
            },
        }
    ],
}


def test_an_analyst_reads_plans_but_is_offered_no_change(page: Page, world: World) -> None:
    analyst = world.person("analyst")
    source = world.source(analyst.workspace)
    plans = f"/api/v1/workspaces/{analyst.workspace}/tracking-plans"
    world.server.api("POST", plans, json=PLAN)
    world.server.api(
        "PUT",
        f"/api/v1/workspaces/{analyst.workspace}/sources/{source['id']}/tracking-plan",
        json={"plan": "web", "settings": {"violations": "flag"}},
    )
    sign_in(page, analyst)
    page.get_by_role("link", name="Tracking plans").click()
    page.get_by_role("link", name="Web").click()
    properties = page.get_by_role("table", name="Signed Up properties")
    expect(properties).to_contain_text("free, pro")
    expect(properties).to_contain_text("Required")
    expect(page.get_by_role("button", name="Save as a new version")).to_have_count(0)
    expect(page.get_by_role("button", name="Add an event")).to_have_count(0)
    expect(page.get_by_role("checkbox")).to_have_count(0)
    page.get_by_role("tab", name="Sources").click()
    expect(page.get_by_text("Connected to this plan")).to_be_visible()
    expect(page.get_by_role("button", name="Connect")).to_have_count(0)
    expect(page.get_by_role("button", name="Disconnect")).to_have_count(0)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tracking plans").click()
    expect(page.get_by_role("button", name="Create a plan")).to_have_count(0)
    page.get_by_role("tab", name="Quarantine").click()
    expect(page.get_by_role("heading", name="The quarantine is empty")).to_be_visible()
    expect(page.get_by_role("button", name="Replay selected")).to_have_count(0)
