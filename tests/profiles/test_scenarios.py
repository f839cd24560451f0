"""Segment's identity-resolution scenarios through the whole pipeline: sent to a running
``headwater serve``, resolved by its processor, read back through the Profile API and the
management search. (``tests/identity/test_scenarios.py`` checks the same rules without I/O.)"""

from __future__ import annotations

from typing import Any

from tests.profiles.conftest import Space, ids


def _at(minute: int) -> str:
    return f"2026-03-01T08:{minute:02d}:00Z"


def _identify(message_id: str, minute: int, **fields: Any) -> dict[str, Any]:
    return {"type": "identify", "messageId": message_id, "timestamp": _at(minute), **fields}


def test_a_new_user_id_with_a_known_email_makes_a_new_profile(space: Space) -> None:
    jane = "jane@example1.com"
    space.send(
        _identify("m1", 0, userId="abc123", traits={"email": jane}),
        _identify("m2", 1, userId="abc456", traits={"email": jane, "plan": "pro"}),
    )
    second = space.eventually("user_id:abc456/external_ids", lambda b: len(b["data"]) == 1)
    assert ids(second) == {("user_id", "abc456")}
    first = space.profile_api("user_id:abc123/external_ids").json()
    assert ids(first) == {("user_id", "abc123"), ("email", jane)}
    assert space.search(identifier=f"email:{jane}") == space.search(identifier="user_id:abc123")
    # The second event's traits belong to its own profile, the first keeps its own.
    assert space.profile_api("user_id:abc456/traits").json()["traits"] == {
        "email": jane,
        "plan": "pro",
    }
    assert space.profile_api("user_id:abc123/traits").json()["traits"] == {"email": jane}


def test_a_shared_ios_device_stays_with_its_first_user(space: Space) -> None:
    device = {"device": {"id": "D-1", "type": "ios"}}
    space.send(
        _identify("d1", 0, userId="u1", context=device),
        _identify("d2", 1, userId="u2", context=device),
        {"type": "track", "event": "Opened", "messageId": "d3", "timestamp": _at(2)}
        | {"anonymousId": "app-install", "context": device},
    )
    first = space.eventually("user_id:u1/external_ids", lambda b: len(b["data"]) == 3)
    assert ids(first) == {("user_id", "u1"), ("ios.id", "D-1"), ("anonymous_id", "app-install")}
    assert ids(space.profile_api("user_id:u2/external_ids").json()) == {("user_id", "u2")}
    events = space.profile_api("user_id:u1/events").json()["data"]
    assert sorted(e["messageId"] for e in events) == ["d1", "d3"]


def test_blocked_values_are_never_identifiers(space: Space) -> None:
    space.send(
        _identify("b1", 0, userId="null", anonymousId="a-1", traits={"email": "anonymous"}),
        _identify("b2", 1, userId="null", anonymousId="a-2"),
        _identify("b3", 2, userId="u-3", anonymousId="0000", traits={"email": "-1"}),
    )
    third = space.eventually("user_id:u-3/external_ids", lambda b: len(b["data"]) == 1)
    assert ids(third) == {("user_id", "u-3")}
    for anonymous in ("a-1", "a-2"):
        body = space.eventually(f"anonymous_id:{anonymous}/external_ids", lambda b: True)
        assert ids(body) == {("anonymous_id", anonymous)}
    for blocked in ("user_id:null", "anonymous_id:0000", "email:anonymous", "email:-1"):
        assert space.profile_api(f"{blocked}/traits").status_code == 404
        assert space.search(identifier=blocked) == []
