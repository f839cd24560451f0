"""The management API's profile views for the web app: a search that lists (and, without a
query, the profiles seen last), the identity graph's edges, and a paged, filtered timeline.

Real events go through the tracking API and the server's processor."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.api.conftest import Api, unique


def _eventually(probe: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := probe()):
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.1)
    return found


def _at(second: int) -> str:
    return f"2026-05-01T10:00:{second:02d}Z"


@pytest.fixture
def person(api: Api) -> dict[str, Any]:
    """A workspace where one person browsed anonymously, identified, then was tied to the
    anonymous id: two profiles merged into one."""
    workspace = api.workspace()
    key = api.source(workspace=workspace)["write_key"]
    user, anonymous = unique("user"), unique("anon")
    api.track(key, anonymousId=anonymous, event="Page Viewed", messageId="t-1", timestamp=_at(1))
    api.track(
        key,
        "/v1/identify",
        userId=user,
        traits={"email": "Ada@Example.com", "plan": "pro"},
        messageId="t-2",
        timestamp=_at(2),
    )
    api.track(key, userId=user, event="Order Completed", messageId="t-3", timestamp=_at(3))
    api.track(
        key, "/v1/identify", userId=user, anonymousId=anonymous, messageId="t-4", timestamp=_at(4)
    )
    base = f"/api/v1/workspaces/{workspace}"

    def merged() -> Any:
        found = api.ok("GET", f"{base}/profiles", params={"identifier": f"user_id:{user}"})
        if not found:
            return None
        detail = api.ok("GET", f"{base}/profiles/{found[0]['id']}")
        return detail if detail["merges"] and len(detail["events"]) == 4 else None

    detail = _eventually(merged)
    return {"base": base, "user": user, "anonymous": anonymous, "detail": detail}


def test_search_answers_identifiers_and_traits_and_lists_recent_profiles(
    api: Api, person: dict[str, Any]
) -> None:
    base = person["base"]
    by_trait = api.ok("GET", f"{base}/profiles", params={"trait": "email=Ada@Example.com"})
    by_value = api.ok("GET", f"{base}/profiles", params={"value": person["anonymous"]})
    recent = api.ok("GET", f"{base}/profiles")
    assert by_trait == by_value == recent
    (found,) = recent
    assert found["id"] == person["detail"]["id"]
    assert found["kind"] == "user"
    assert found["traits"] == {"email": "Ada@Example.com", "plan": "pro"}
    assert {(i["type"], i["value"]) for i in found["identifiers"]} == {
        ("anonymous_id", person["anonymous"]),
        ("user_id", person["user"]),
        ("email", "ada@example.com"),
    }
    assert found["last_seen"] == "2026-05-01T10:00:04.000Z"
    assert api.ok("GET", f"{base}/profiles", params={"value": unique("nobody")}) == []


def test_the_identity_graph_links_identifiers_named_together(person: dict[str, Any]) -> None:
    detail = person["detail"]
    names = [(i["type"], i["value"]) for i in detail["identifiers"]]
    edges = {
        (names[link["source"]], names[link["target"]], link["message_id"])
        for link in detail["identifier_links"]
    }
    user, email = ("user_id", person["user"]), ("email", "ada@example.com")
    anonymous = ("anonymous_id", person["anonymous"])
    # each edge's ends in the order of the identifiers list
    assert {frozenset(edge[:2]) for edge in edges} == {
        frozenset({user, email}),
        frozenset({user, anonymous}),
    }
    assert {edge[2] for edge in edges} == {"t-2", "t-4"}
    (merge,) = detail["merges"]
    assert merge["message_id"] == "t-4"


def test_the_timeline_pages_and_filters(api: Api, person: dict[str, Any]) -> None:
    events = f"{person['base']}/profiles/{person['detail']['id']}/events"
    first = api.ok("GET", events, params={"limit": 3})
    assert [e["message_id"] for e in first["events"]] == ["t-4", "t-3", "t-2"]
    assert first["events"][1]["name"] == "Order Completed"
    assert first["events"][1]["message"]["event"] == "Order Completed"
    rest = api.ok("GET", events, params={"limit": 3, "before": first["next"]})
    assert [e["message_id"] for e in rest["events"]] == ["t-1"]
    assert rest["next"] is None
    tracks = api.ok("GET", events, params={"type": "track"})
    assert [e["message_id"] for e in tracks["events"]] == ["t-3", "t-1"]
    named = api.ok("GET", events, params={"name": "order"})
    assert [e["message_id"] for e in named["events"]] == ["t-3"]
    # LIKE's wildcards are matched as themselves
    assert api.ok("GET", events, params={"name": "%"})["events"] == []
    api.error("GET", events, 400, "invalid_cursor", params={"before": "nonsense"})
    api.error("GET", f"{person['base']}/profiles/{unique('p')}/events", 404, "profile_not_found")
