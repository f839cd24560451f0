"""Workspaces and identity rules, as an owner of the instance and as a workspace's people."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.ui.conftest import PASSWORD, Person, World, sign_in


def _owner_of_the_instance(world: World) -> Person:
    email = f"root-{uuid.uuid4().hex[:6]}@example.com"
    world.server.api(
        "POST",
        "/api/v1/users",
        json={"email": email, "password": PASSWORD, "instance_owner": True},
    )
    return Person(email, "default", "owner")


def test_an_instance_owner_creates_a_workspace_and_lands_in_it(page: Page, world: World) -> None:
    sign_in(page, _owner_of_the_instance(world))
    page.get_by_role("link", name="Workspaces").click()
    page.get_by_role("button", name="Create a workspace").click()
    name = f"Marketing {uuid.uuid4().hex[:4]}"
    page.get_by_label("Name", exact=True).fill(name)
    slug = page.get_by_label("Slug", exact=False).input_value()
    assert slug == name.lower().replace(" ", "-")
    page.get_by_role("button", name="Create workspace").click()
    page.wait_for_url(f"**/w/{slug}/overview")
    expect(page.get_by_role("heading", name="No events in the last day")).to_be_visible()
    created = world.server.api("GET", "/api/v1/workspaces")
    assert slug in {workspace["slug"] for workspace in created}


def test_a_workspace_owner_may_not_create_workspaces(page: Page, world: World) -> None:
    owner = world.person("owner")
    sign_in(page, owner)
    page.get_by_role("link", name="Workspaces").click()
    expect(page.get_by_role("link", name=owner.workspace)).to_be_visible()
    expect(page.get_by_role("button", name="Create a workspace")).to_have_count(0)


def test_an_admin_changes_identity_rules_and_an_analyst_only_reads_them(
    page: Page, world: World
) -> None:
    admin = world.person("admin")
    sign_in(page, admin)
    page.get_by_role("link", name="Identity rules").click()
    expect(page.get_by_label("Limit of user_id")).to_have_value("1")
    page.get_by_label("Limit of email").fill("3 in P30D")
    blocked = page.get_by_label("Blocked values", exact=False)
    blocked.fill(blocked.input_value() + "\n^test$")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    rules = world.server.api("GET", f"/api/v1/workspaces/{admin.workspace}/identity-rules")
    assert rules["limits"]["email"] == {"max": 3, "window": "P30D"}
    assert "^test$" in rules["blocked"]

    blocked.fill(blocked.input_value() + "\n([")  # not a regular expression: the server says so
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("alert")).to_contain_text("([")

    analyst = world.person("analyst", workspace=admin.workspace)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, analyst)
    page.get_by_role("link", name="Identity rules").click()
    expect(page.get_by_label("Limit of email")).to_have_value("3 in P30D")
    expect(page.get_by_label("Limit of email")).to_be_disabled()
    expect(page.get_by_role("button", name="Save rules")).to_have_count(0)
