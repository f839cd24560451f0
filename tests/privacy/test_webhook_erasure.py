"""A deletion regulation leaves nothing of the person in a webhook source's debugger history:
the requests that made their messages (or hold their identifiers) go, another person's stay."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.privacy.helpers import caught_up, ended, regulate
from tests.privacy.test_suppression_and_deletion import _tables_holding
from tests.server import RunningServer

pytestmark = pytest.mark.e2e

USER = "hook-user-5d2e"
EMAIL = "hook-5d2e@example.com"


def test_deletion_forgets_the_webhook_requests_of_the_person(server: RunningServer) -> None:
    slug, _, _ = server.new_workspace()
    made = server.api(
        "POST",
        f"/api/v1/workspaces/{slug}/webhook-sources",
        json={
            "name": "signups",
            "config": {
                "auth": {"type": "none"},
                "rules": [
                    {
                        "type": "identify",
                        "set": {"userId": "body.user", "traits.email": "body.email"},
                    }
                ],
            },
        },
    )
    url = server.url + made["hook"]["path"]
    for user, email in ((USER, EMAIL), ("other-5d2e", "other-5d2e@example.com")):
        sent = httpx.post(url, json={"user": user, "email": email}, timeout=30)
        assert sent.status_code == 200, sent.text
    caught_up(server)
    assert "hook_requests" in asyncio.run(_tables_holding(server.database_url, (USER, EMAIL)))

    regulation = ended(server, slug, regulate(server, slug, "SUPPRESS_WITH_DELETE", [USER]))
    assert regulation["overallStatus"] == "FINISHED", regulation
    assert regulation["targets"][0]["removed"]["hook_requests"] == 1
    assert asyncio.run(_tables_holding(server.database_url, (USER, EMAIL))) == {}
    kept = server.api(
        "GET", f"/api/v1/workspaces/{slug}/sources/{made['hook']['source_id']}/hook/requests"
    )
    assert [r["messages"][0]["userId"] for r in kept] == ["other-5d2e"]
