"""A marketer finds a customer's profile by email or user id and reads it: traits, events,
the identity graph built from an anonymous visit and a sign-up; without personal-data access
the email is masked."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.ui.conftest import World, sign_in


@dataclass
class Customer:
    user_id: str
    anonymous_id: str
    email: str


def _send(world: World, write_key: str, path: str, **body: Any) -> None:
    response = httpx.post(f"{world.server.url}{path}", auth=(write_key, ""), json=body, timeout=30)
    assert response.status_code == 200, response.text


def _customer(world: World, workspace: str) -> Customer:
    """Someone who browsed anonymously, signed up, ordered, and was then recognised as the
    anonymous visitor: two profiles merged into one with three identifiers."""
    tag = uuid.uuid4().hex[:6]
    who = Customer(f"user-{tag}", f"anon-{tag}", f"ada-{tag}@example.com")
    key = str(world.source(workspace)["write_key"])
    _send(world, key, "/v1/track", anonymousId=who.anonymous_id, event="Product Viewed")
    traits = {"email": who.email, "name": "Ada Lovelace", "plan": "pro"}
    _send(world, key, "/v1/identify", userId=who.user_id, traits=traits)
    _send(world, key, "/v1/track", userId=who.user_id, event="Order Completed")
    _send(world, key, "/v1/identify", userId=who.user_id, anonymousId=who.anonymous_id)
    path = f"/api/v1/workspaces/{workspace}/profiles/"
    profile = world.profile(workspace, f"user_id:{who.user_id}")
    deadline = time.monotonic() + 30
    while not world.server.api("GET", path + profile["id"])["merges"]:
        assert time.monotonic() < deadline, "the profiles were not merged"
        time.sleep(0.1)
    return who


def test_a_marketer_finds_a_profile_and_reads_it(page: Page, world: World) -> None:
    marketer = world.person("marketer", pii_read=True)
    who = _customer(world, marketer.workspace)
    sign_in(page, marketer)
    page.get_by_role("link", name="Profiles").click()

    page.get_by_label("Search by").select_option(label="A trait")
    page.get_by_label("Trait name").fill("email")
    page.get_by_label("Trait value").fill(who.email)
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("region", name="Profiles")
    expect(results.get_by_role("link", name="Ada Lovelace")).to_have_count(1)
    expect(results).to_contain_text(f"anonymous_id: {who.anonymous_id}")

    page.get_by_label("Search by").select_option(
        label="Any identifier (user id, email, anonymous id…)"
    )
    page.get_by_label("Identifier value").fill(who.user_id)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name=f"Profiles matching “{who.user_id}”")).to_be_visible()
    results.get_by_role("row").filter(has_text=who.user_id).click()

    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    traits = page.get_by_role("table", name="Traits")
    expect(traits.get_by_role("row").filter(has_text="plan")).to_contain_text("pro")
    expect(traits.get_by_role("row").filter(has_text="email")).to_contain_text(who.email)
    expect(page.get_by_text("Personal values are hidden")).to_have_count(0)

    page.get_by_role("tab", name="Events").click()
    timeline = page.get_by_role("list", name="Timeline")
    expect(timeline.get_by_role("listitem")).to_have_count(4)
    expect(timeline).to_contain_text("Order Completed")
    expect(timeline).to_contain_text("Product Viewed")
    page.get_by_label("Event name contains").fill("order")
    page.get_by_role("button", name="Filter").click()
    expect(timeline.get_by_role("listitem")).to_have_count(1)
    expect(timeline).to_contain_text("Order Completed")

    page.get_by_role("tab", name="Identity graph").click()
    graph = page.get_by_role("img", name="3 identifiers, 2 links")
    expect(graph).to_be_visible()
    expect(graph.get_by_test_id("identity-node")).to_have_count(3)
    expect(graph).to_contain_text(who.user_id)
    expect(graph).to_contain_text(who.anonymous_id)
    expect(page.get_by_role("list", name="Merges")).to_contain_text("merged into this profile")


def test_without_personal_data_access_the_email_is_masked(page: Page, world: World) -> None:
    marketer = world.person("marketer")
    who = _customer(world, marketer.workspace)
    sign_in(page, marketer)
    page.goto(f"/w/{marketer.workspace}/profiles")
    expect(
        page.get_by_text("Personal values are hidden: your role lacks personal-data access.")
    ).to_be_visible()
    page.get_by_label("Identifier value").fill(who.user_id)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("region", name="Profiles").get_by_role("link").click()

    traits = page.get_by_role("table", name="Traits")
    expect(traits.get_by_role("row").filter(has_text="email")).to_contain_text("[masked]")
    expect(traits.get_by_role("row").filter(has_text="plan")).to_contain_text("pro")
    expect(page.get_by_text("Personal values are hidden")).to_be_visible()
    page.get_by_role("tab", name="Identity graph").click()
    expect(page.get_by_role("table", name="Identifiers")).to_contain_text(who.user_id)
    assert who.email not in page.content()


def test_empty_states_say_what_to_do(page: Page, world: World) -> None:
    marketer = world.person("marketer")
    sign_in(page, marketer)
    page.goto(f"/w/{marketer.workspace}/profiles")
    expect(page.get_by_role("heading", name="No profile yet")).to_be_visible()
    expect(
        page.get_by_text("Profiles appear when a source sends identify or track events")
    ).to_be_visible()
    page.get_by_role("link", name="Set up a source").click()
    expect(page.get_by_role("heading", name="Sources", level=1)).to_be_visible()

    page.goto(f"/w/{marketer.workspace}/profiles")
    page.get_by_label("Identifier value").fill("nobody-here")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="No profile matches")).to_be_visible()
    expect(page.get_by_text("Try another identifier")).to_be_visible()
