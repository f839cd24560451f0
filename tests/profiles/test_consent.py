"""Consent on the profile, through the tracking API and the processor: the newest
``context.consent.categoryPreferences`` of a profile's events (by event timestamp), Segment's
``Segment Consent Preference Updated`` event included, kept across merges and shown by the
management API's profile view."""

from __future__ import annotations

from typing import Any

from tests.profiles.conftest import Space


def _ts(minute: int) -> str:
    return f"2026-06-01T09:{minute:02d}:00Z"


def _consent(**categories: bool) -> dict[str, Any]:
    return {"consent": {"categoryPreferences": categories}}


def _detail(space: Space, identifier: str) -> dict[str, Any]:
    found = space.search(identifier=identifier)
    assert len(found) == 1, found
    response = space.admin("GET", f"/profiles/{found[0]}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _events(space: Space, lookup: str, count: int) -> None:
    space.eventually(f"{lookup}/events", lambda b: len(b["data"]) == count)


def test_the_newest_preferences_win_and_a_late_older_event_does_not_overwrite(
    space: Space,
) -> None:
    space.send(
        {"type": "page", "userId": "cs", "messageId": "cs-0", "timestamp": _ts(0)},
    )
    _events(space, "user_id:cs", 1)
    before = _detail(space, "user_id:cs")
    assert (before["consent"], before["consent_updated_at"]) == ({}, None)

    space.send(
        {
            "type": "track",
            "event": "Segment Consent Preference Updated",
            "userId": "cs",
            "messageId": "cs-1",
            "timestamp": _ts(10),
            "context": _consent(Marketing=True, Analytics=False),
        }
    )
    _events(space, "user_id:cs", 2)
    first = _detail(space, "user_id:cs")
    assert first["consent"] == {"Marketing": True, "Analytics": False}
    assert first["consent_updated_at"] == "2026-06-01T09:10:00.000Z"
    assert first["consent_message_id"] == "cs-1"

    space.send(
        # Older than cs-1, read after it: does not overwrite the newer choice.
        {
            "type": "page",
            "userId": "cs",
            "messageId": "cs-2",
            "timestamp": _ts(5),
            "context": _consent(Marketing=False),
        },
        # No consent object: leaves the stored choice as it is.
        {
            "type": "track",
            "event": "Viewed",
            "userId": "cs",
            "messageId": "cs-3",
            "timestamp": _ts(20),
        },
    )
    _events(space, "user_id:cs", 4)
    assert _detail(space, "user_id:cs")["consent_message_id"] == "cs-1"

    space.send(
        {
            "type": "identify",
            "userId": "cs",
            "messageId": "cs-4",
            "timestamp": _ts(30),
            "context": _consent(Analytics=True),
        }
    )
    _events(space, "user_id:cs", 5)
    last = _detail(space, "user_id:cs")
    # The newer preferences replace the stored ones whole: Marketing is no longer consented.
    assert last["consent"] == {"Analytics": True}
    assert (last["consent_updated_at"], last["consent_message_id"]) == (
        "2026-06-01T09:30:00.000Z",
        "cs-4",
    )


def _two_profiles_then_join(space: Space, join_minute: int) -> dict[str, Any]:
    """An anonymous visitor consents at minute 20, the known user at minute 10 (both with
    their own profile); an identify at ``join_minute`` joins them."""
    space.send(
        {
            "type": "page",
            "anonymousId": "mc-web",
            "messageId": "mc-1",
            "timestamp": _ts(20),
            "context": _consent(Marketing=False, Advertising=True),
        },
        {
            "type": "track",
            "event": "Segment Consent Preference Updated",
            "userId": "mc",
            "messageId": "mc-2",
            "timestamp": _ts(10),
            "context": _consent(Marketing=True),
        },
    )
    _events(space, "anonymous_id:mc-web", 1)
    _events(space, "user_id:mc", 1)
    space.send(
        {
            "type": "identify",
            "userId": "mc",
            "anonymousId": "mc-web",
            "messageId": "mc-3",
            "timestamp": _ts(join_minute),
        }
    )
    _events(space, "user_id:mc", 3)
    return _detail(space, "user_id:mc")


def test_a_merge_keeps_the_newest_choice(space: Space) -> None:
    merged = _two_profiles_then_join(space, 30)
    assert len(merged["merges"]) == 1
    assert merged["consent"] == {"Marketing": False, "Advertising": True}
    assert merged["consent_message_id"] == "mc-1"


def test_a_rebuilt_profile_keeps_the_newest_choice(space: Space) -> None:
    """The joining identify is older than both events: its component is rebuilt in canonical
    order, and the consent recomputed from the events."""
    rebuilt = _two_profiles_then_join(space, 5)
    assert rebuilt["consent"] == {"Marketing": False, "Advertising": True}
    assert rebuilt["consent_message_id"] == "mc-1"
