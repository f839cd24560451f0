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
    ("imports", "Imports"),
    ("settings/workspaces", "Workspaces"),
    ("settings/identity", "Identity rules"),
    ("destinations", "Destinations"),
    ("destinations/new", "Add a destination"),
    ("destinations/{destination}", "Hook"),
    ("destinations/{destination}?tab=errors", "Hook"),
    ("destinations/{destination}?tab=dead-letters", "Hook"),
    ("destinations/{destination}?tab=test", "Hook"),
    ("destinations/{destination}?tab=settings", "Hook"),
    ("plans", "Tracking plans"),
    ("plans?tab=violations", "Tracking plans"),
    ("plans?tab=quarantine", "Tracking plans"),
    ("plans/new", "New tracking plan"),
    ("plans/web", "Web"),
    ("plans/web?tab=versions", "Web"),
    ("plans/web?tab=sources", "Web"),
    ("audiences", "Audiences"),
    ("audiences/new", "New audience"),
    ("computed-traits", "Computed traits"),
    ("computed-traits/new", "New computed trait"),
    ("journeys", "Journeys"),
    ("journeys/welcome", "Welcome"),
    ("profiles", "Profiles"),
    ("profiles/{profile}", "user_id: user-1"),
    ("profiles/{profile}?tab=events", "user_id: user-1"),
    ("profiles/{profile}?tab=identity", "user_id: user-1"),
    ("profiles/{profile}?tab=accounts", "user_id: user-1"),
    ("profiles/{profile}?tab=audiences", "user_id: user-1"),
    ("profiles/{profile}?tab=journeys", "user_id: user-1"),
    ("settings/people", "People"),
    ("settings/tokens", "API tokens"),
    ("settings/audit", "Audit log"),
    ("settings/account", "Your account"),
    ("privacy/deletion", "Deletion and suppression"),
    ("privacy/exports", "Subject access"),
    ("privacy/pii", "PII rules"),
    ("privacy/pii?tab=inbox", "PII rules"),
    ("privacy/pii?tab=test", "PII rules"),
    ("privacy/retention", "Retention"),
]


@pytest.mark.parametrize(("path", "heading"), SCREENS)
def test_no_serious_accessibility_violation(
    page: Page, world: World, path: str, heading: str
) -> None:
    owner = world.person("owner")
    source = world.source(owner.workspace)
    world.track(str(source["write_key"]), "Signed Up")
    destination = world.server.api(
        "POST",
        f"/api/v1/workspaces/{owner.workspace}/destinations",
        json={"name": "Hook", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/x"}},
    )
    plan = {"name": "Web", "events": [{"name": "Signed Up", "schema": {"required": ["plan"]}}]}
    world.server.api("POST", f"/api/v1/workspaces/{owner.workspace}/tracking-plans", json=plan)
    journey = {
        "key": "welcome",
        "name": "Welcome",
        "document": {
            "version": 1,
            "trigger": {"type": "event", "event": "Signed Up"},
            "start": "wait",
            "nodes": {"wait": {"type": "delay", "config": {"duration": {"days": 1}}}},
        },
    }
    world.server.api("POST", f"/api/v1/workspaces/{owner.workspace}/journeys", json=journey)
    profile = world.profile(owner.workspace, "user_id:user-1")["id"] if "{profile}" in path else ""
    sign_in(page, owner)
    ids = {"source": source["id"], "destination": destination["id"], "profile": profile}
    page.goto(f"/w/{owner.workspace}/{path.format(**ids)}")
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
    assert serious_violations(page) == []


def test_the_sign_in_screen_has_no_serious_violation(page: Page) -> None:
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in to Headwater")).to_be_visible()
    assert serious_violations(page) == []
