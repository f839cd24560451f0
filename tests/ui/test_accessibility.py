"""axe-core on every screen, as an owner sees it with data in it: no serious violations."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.ui.conftest import World, serious_violations, sign_in

SCREENS = [
    ("overview", "Overview"),
    ("sources", "Sources"),
    ("sources/{source}", "Website"),
    ("sources/{source}?tab=live", "Website"),
    ("sources/{source}?tab=rejections", "Website"),
    ("sources/{source}?tab=schema", "Website"),
    ("profiles", "Profiles"),
    ("profiles/{profile}", "user_id: user-1"),
    ("profiles/{profile}?tab=events", "user_id: user-1"),
    ("profiles/{profile}?tab=identity", "user_id: user-1"),
    ("profiles/{profile}?tab=accounts", "user_id: user-1"),
    ("profiles/{profile}?tab=audiences", "user_id: user-1"),
    ("settings/people", "People"),
    ("settings/tokens", "API tokens"),
    ("settings/audit", "Audit log"),
    ("settings/account", "Your account"),
]


@pytest.mark.parametrize(("path", "heading"), SCREENS)
def test_no_serious_accessibility_violation(
    page: Page, world: World, path: str, heading: str
) -> None:
    owner = world.person("owner")
    source = world.source(owner.workspace)
    world.track(str(source["write_key"]), "Signed Up")
    profile = world.profile(owner.workspace, "user_id:user-1")["id"] if "{profile}" in path else ""
    sign_in(page, owner)
    page.goto(f"/w/{owner.workspace}/{path.format(source=source['id'], profile=profile)}")
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
    assert serious_violations(page) == []


def test_the_sign_in_screen_has_no_serious_violation(page: Page) -> None:
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in to Headwater")).to_be_visible()
    assert serious_violations(page) == []
