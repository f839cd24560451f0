"""Audiences and journeys that require consent, in a real ``headwater serve``: a ``consent``
condition holds for a profile whose newest ``categoryPreferences`` grant the category; a
journey's ``entry.consent`` lets in only profiles that consent to every category it names,
and ends an instance (``consent_withdrawn``) at its next step once the profile withdraws,
before anything is sent."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.destinations.sink import Sink
from tests.journeys.test_runtime import (
    BASE,
    _by_user,
    _destination,
    _instances,
    _journey,
    _send,
    _track,
    _until,
)
from tests.server import RunningServer

_UPDATED = "Segment Consent Preference Updated"


def _preferences(user: str, **categories: bool) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": user,
        "event": _UPDATED,
        "context": {"consent": {"categoryPreferences": categories}},
    }


def _members(server: RunningServer, key: str) -> list[str]:
    page = server.api("GET", f"{BASE}/audiences/{key}/members")
    return sorted(m["user_id"] for m in page["data"])


async def test_an_audience_holds_those_who_consent_and_loses_who_withdraws(
    server: RunningServer,
) -> None:
    marketing = {"type": "consent", "category": "Marketing"}
    refused = {"type": "consent", "category": "Marketing", "granted": False}
    for key, condition in (("marketable", marketing), ("not_marketable", refused)):
        server.api(
            "POST",
            f"{BASE}/audiences",
            json={"key": key, "name": key, "definition": {"version": 1, "condition": condition}},
        )
    _send(
        server,
        _preferences("ann", Marketing=True, Analytics=False),
        _preferences("bob", Marketing=False, Analytics=True),
        _preferences("eve", Analytics=True),  # Marketing left out: not consented
        _track("cy", "Signed Up"),  # never sent preferences
    )

    async def sorted_out() -> bool:
        return _members(server, "marketable") == ["ann"] and _members(server, "not_marketable") == [
            "bob",
            "cy",
            "eve",
        ]

    await _until(sorted_out, "ann alone consents to Marketing")
    _send(server, _preferences("ann", Analytics=True), _preferences("bob", Marketing=True))

    async def swapped() -> bool:
        return _members(server, "marketable") == ["bob"]

    await _until(swapped, "ann withdrew and bob consented")
    assert _members(server, "not_marketable") == ["ann", "cy", "eve"]

    # the batch recompute (SQL) agrees with the real-time evaluation
    server.api("POST", f"{BASE}/audiences/marketable/recompute")
    await asyncio.sleep(1)
    assert _members(server, "marketable") == ["bob"]


async def test_a_journey_requiring_consent_admits_and_lets_go_by_consent(
    server: RunningServer, engine: AsyncEngine
) -> None:
    with Sink() as sink:
        hook = _destination(server, sink)
        _journey(
            server,
            "offers",
            {
                "version": 1,
                "trigger": {"type": "event", "event": "Signed Up"},
                "entry": {"consent": ["Marketing", "Email"]},
                "start": "wait",
                "nodes": {
                    "wait": {
                        "type": "wait_event",
                        "config": {
                            "events": [{"port": "bought", "event": "Order Completed"}],
                            "timeout": {"seconds": 3},
                        },
                        "next": {"bought": "done", "timeout": "offer"},
                    },
                    "offer": {
                        "type": "send",
                        "config": {"destination": hook, "event": "Offer"},
                        "next": {"out": "done"},
                    },
                    "done": {"type": "exit"},
                },
            },
        )
        _send(
            server,
            _preferences("ann", Marketing=True, Email=True),
            _preferences("bob", Marketing=True, Email=True),
            _preferences("cy", Marketing=True),  # not Email: stays out
            _track("dee", "Browsed"),  # no preferences at all: stays out
        )
        await asyncio.sleep(1)
        _send(
            server,
            _track("ann", "Signed Up"),
            _track("bob", "Signed Up"),
            _track("cy", "Signed Up"),
            _track("dee", "Signed Up"),
        )

        async def waiting() -> bool:
            found = await _instances(engine)
            return sorted(found) == ["ann", "bob"]

        await _until(waiting, "ann and bob enter, cy and dee do not")
        _send(server, _preferences("bob", Marketing=True, Email=False))

        async def ended() -> bool:
            found = await _instances(engine)
            return all(i["state"] != "waiting" for i in found.values()) and bool(found)

        await _until(ended, "both leave the wait")
        await asyncio.sleep(1.5)  # nothing more is sent
        assert _by_user(sink.requests) == {"ann": ["Offer"]}
        found = await _instances(engine)
        assert {u: (i["state"], i["end_reason"]) for u, i in found.items()} == {
            "ann": ("completed", "exit"),
            "bob": ("exited", "consent_withdrawn"),
        }
        stats = server.api("GET", f"{BASE}/journeys/offers/stats")
        assert stats["exited"] == {"consent_withdrawn": 1}
