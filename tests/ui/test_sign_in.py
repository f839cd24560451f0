"""Signing in and out, and a role's navigation: what it may not do is not offered."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.ui.conftest import PASSWORD, World, sign_in


def test_a_wrong_password_says_so_in_plain_words_and_the_right_one_signs_in(
    page: Page, world: World
) -> None:
    analyst = world.person("analyst")
    page.goto("/")
    page.wait_for_url("**/login")
    page.get_by_label("Email").fill(analyst.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/w/{analyst.workspace}/overview")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["headwater_session"]["httpOnly"] is True


def test_an_analyst_is_not_offered_what_their_role_may_not_do(page: Page, world: World) -> None:
    analyst = world.person("analyst")
    sign_in(page, analyst)
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Sources")).to_be_visible()
    expect(navigation.get_by_role("link", name="People")).to_have_count(0)
    expect(navigation.get_by_role("link", name="Audit log")).to_have_count(0)
    page.get_by_role("link", name="Sources").click()
    expect(page.get_by_role("heading", name="No source yet")).to_be_visible()
    expect(page.get_by_role("button", name="Add a source")).to_have_count(0)
    expect(page.get_by_text("Ask a developer")).to_be_visible()


def test_signing_out_ends_the_session(page: Page, world: World) -> None:
    owner = world.person("owner")
    sign_in(page, owner)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    page.goto(f"/w/{owner.workspace}/sources")
    page.wait_for_url("**/login?next=*")
    answer = page.request.get("/api/v1/me")
    assert answer.status == 401


def test_a_workspace_of_someone_else_is_not_shown(page: Page, world: World) -> None:
    mine, theirs = world.person("owner"), world.person("owner")
    sign_in(page, mine)
    page.goto(f"/w/{theirs.workspace}/sources")
    expect(page.get_by_role("heading", name="Workspace not found")).to_be_visible()
    expect(page.get_by_text(theirs.email)).to_have_count(0)


def test_pages_are_served_with_a_content_security_policy(page: Page, world: World) -> None:
    response = page.goto("/login")
    assert response is not None
    headers = response.headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    api_root = page.request.get("/", headers={"Accept": "application/json"})
    assert api_root.json()["api"] == "/api/v1"
