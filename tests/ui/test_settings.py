"""An owner manages people, tokens and reads the audit log, through the web app only."""

from __future__ import annotations

import uuid

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.ui.conftest import PASSWORD, World, sign_in


def test_an_owner_invites_a_marketer_who_sets_a_password_and_signs_in(
    page: Page, browser: Browser, world: World
) -> None:
    owner = world.person("owner")
    sign_in(page, owner)
    page.get_by_role("link", name="People").click()
    page.get_by_role("button", name="Add a person").click()
    invited = f"mia-{uuid.uuid4().hex[:6]}@example.com"
    page.get_by_label("Email", exact=True).fill(invited)
    page.get_by_label("Role", exact=True).select_option("marketer")
    page.get_by_role("button", name="Add", exact=True).click()
    link = page.get_by_label("invitation link", exact=True).inner_text()
    assert "/setup#hwl_" in link
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_role("combobox", name=f"Role of {invited}")).to_have_value("marketer")

    guest = browser.new_context(base_url=world.server.url).new_page()
    guest.goto(link)
    guest.get_by_label("New password").fill(PASSWORD)
    guest.get_by_label("The same password again").fill(PASSWORD + "!")
    guest.get_by_role("button", name="Save and sign in").click()
    expect(guest.get_by_role("alert")).to_contain_text("differ")
    guest.get_by_label("The same password again").fill(PASSWORD)
    guest.get_by_role("button", name="Save and sign in").click()
    guest.wait_for_url(f"**/w/{owner.workspace}/overview")
    navigation = guest.get_by_role("navigation", name="Main")
    expect(navigation).to_contain_text(invited)
    expect(navigation.get_by_role("link", name="People")).to_have_count(0)
    guest.context.close()


def test_an_owner_changes_a_role_and_the_change_is_in_the_audit_log(
    page: Page, world: World
) -> None:
    owner = world.person("owner")
    analyst = world.person("analyst", workspace=owner.workspace)
    sign_in(page, owner)
    page.get_by_role("link", name="People").click()
    page.get_by_role("combobox", name=f"Role of {analyst.email}").select_option("developer")
    expect(page.get_by_role("combobox", name=f"Role of {analyst.email}")).to_have_value("developer")

    page.get_by_role("link", name="Audit log").click()
    log = page.get_by_role("table", name="Audit entries, newest first")
    expect(log).to_contain_text("member.update")
    expect(log.get_by_role("row").nth(1)).to_contain_text(owner.email)
    page.get_by_label("Who").fill("nobody@example.com")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("heading", name="No change recorded")).to_be_visible()


def test_a_token_is_shown_once_works_and_stops_when_revoked(page: Page, world: World) -> None:
    developer = world.person("developer")
    sign_in(page, developer)
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="No token yet")).to_be_visible()
    page.get_by_role("button", name="Create a token").click()
    page.get_by_label("What is it for?").fill("deploy script")
    page.get_by_label("Role", exact=True).select_option("analyst")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("API token", exact=True).inner_text()
    sources = f"{world.server.url}/api/v1/workspaces/{developer.workspace}/sources"
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(sources, headers=bearer, timeout=30).status_code == 200
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_label("API token", exact=True)).to_have_count(0)

    page.on("dialog", lambda dialog: dialog.accept())
    row = page.get_by_role("row").filter(has_text="deploy script")
    row.get_by_role("button", name="Revoke").click()
    expect(row).to_contain_text("Revoked")
    assert httpx.get(sources, headers=bearer, timeout=30).status_code == 401
