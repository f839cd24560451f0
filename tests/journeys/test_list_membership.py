"""The ``list_membership`` node in a real ``headwater serve``: a journey adds a profile to a list
audience and removes it, each change recorded once (a step run again changes nothing), the
change reaching journeys triggered by the audience; a computed or missing audience takes the
``error`` port with the reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.destinations.sink import Sink
from tests.journeys.test_runtime import (
    BASE,
    _by_user,
    _destination,
    _journey,
    _mail_journey,
    _send,
    _track,
    _until,
)
from tests.server import RunningServer


def _membership(action: str, audience: str, **next_: str) -> dict[str, Any]:
    return {
        "type": "list_membership",
        "config": {"action": action, "audience": audience},
        "next": next_,
    }


def _in_vips(then: str) -> dict[str, Any]:
    """A split: ``in`` for members of vips, ``else`` for the others, both on to ``then``."""
    vips = {"type": "audience", "audience": "vips"}
    return {
        "type": "split",
        "config": {"branches": [{"port": "in", "condition": vips}]},
        "next": {"in": then, "else": then},
    }


def _changes(server: RunningServer, key: str) -> list[dict[str, Any]]:
    """The audience's changes, oldest first."""
    return list(reversed(server.api("GET", f"{BASE}/audiences/{key}/changes")["data"]))


def _members(server: RunningServer, key: str) -> list[str | None]:
    page = server.api("GET", f"{BASE}/audiences/{key}/members")
    return [m["user_id"] for m in page["data"]]


async def _instance(engine: AsyncEngine, journey: str, user: str) -> dict[str, Any]:
    """The journey's instance for the user (none: an empty dict)."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT i.id, i.state, i.node_id, i.error FROM journey_instances i"
                    " JOIN journeys j ON j.id = i.journey_id"
                    " JOIN identifiers d ON d.profile_id = i.profile_id AND d.type = 'user_id'"
                    " WHERE j.key = :journey AND d.value = :user"
                ),
                {"journey": journey, "user": user},
            )
        ).first()
        return {} if row is None else dict(row._mapping)


async def _steps(engine: AsyncEngine, instance_id: int) -> list[tuple[str, str, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT node_id, port, detail FROM journey_steps WHERE instance_id = :i"
                " ORDER BY step"
            ),
            {"i": instance_id},
        )
        return [(r.node_id, r.port, r.detail) for r in rows]


async def test_a_journey_adds_and_removes_list_members_exactly_once(
    server: RunningServer, engine: AsyncEngine
) -> None:
    server.api(
        "POST",
        f"{BASE}/audiences",
        json={"key": "vips", "name": "VIPs", "definition": {"version": 1, "list": True}},
    )
    with Sink() as sink:
        hook = _destination(server, sink)
        welcome = _mail_journey({"type": "audience_entered", "audience": "vips"}, hook, "Hi VIP")
        server.api("POST", f"{BASE}/journeys", json={"key": "w", "name": "W", "document": welcome})
        server.api("POST", f"{BASE}/journeys/w/publish")
        _journey(
            server,
            "vip",
            {
                "version": 1,
                "trigger": {"type": "event", "event": "Signed Up"},
                "start": "before",
                "nodes": {
                    "before": _in_vips(then="add"),
                    "add": _membership("add", "vips", out="check"),
                    # in the same turn as the add: the split sees ada in the list now
                    "check": _in_vips(then="wait"),
                    "wait": {
                        "type": "wait_event",
                        "config": {
                            "events": [{"port": "cancelled", "event": "Cancelled"}],
                            "timeout": {"days": 1},
                        },
                        "next": {"cancelled": "remove", "timeout": "done"},
                    },
                    "remove": _membership("remove", "vips", out="done"),
                    "done": {"type": "exit"},
                },
            },
        )
        _send(server, _track("ada", "Signed Up"))

        async def added() -> bool:
            return _members(server, "vips") == ["ada"]

        await _until(added, "the journey adds ada to vips")
        [entered] = _changes(server, "vips")
        assert (entered["change"], entered["cause"]) == ("entered", "journey")
        assert entered["message_id"].startswith("hwj-")

        async def welcomed() -> bool:  # the change reaches the audience's journeys
            return _by_user(sink.requests).get("ada") == ["Hi VIP"]

        await _until(welcomed, "the vips journey greets ada")

        async def waiting() -> bool:
            return (await _instance(engine, "vip", "ada")).get("node_id") == "wait"

        await _until(waiting, "ada waits to cancel")
        _send(server, _track("ada", "Cancelled"))

        async def removed() -> bool:
            return (await _instance(engine, "vip", "ada"))["state"] == "completed"

        await _until(removed, "the journey removes ada")
        assert _members(server, "vips") == []
        assert [c["change"] for c in _changes(server, "vips")] == ["entered", "exited"]
        instance = (await _instance(engine, "vip", "ada"))["id"]
        assert [s[:2] for s in await _steps(engine, instance)] == [
            ("before", "else"),
            ("add", "out"),
            ("check", "in"),
            ("wait", "cancelled"),
            ("remove", "out"),
            ("done", None),
        ]

        # The same steps run again (as after a crash between a step's effect and its record):
        # ada is not in the list now, yet the add step adds her to it no second time.
        async with engine.begin() as connection:
            await connection.execute(
                text("DELETE FROM journey_steps WHERE instance_id = :i"), {"i": instance}
            )
            await connection.execute(
                text(
                    "UPDATE journey_instances SET state = 'active', node_id = 'before', step = 0,"
                    " node_since = now(), wake_at = now(), ended_at = NULL, end_reason = NULL"
                    " WHERE id = :i"
                ),
                {"i": instance},
            )
        await _until(waiting, "ada goes through the add step again")
        _send(server, _track("ada", "Cancelled"))
        await _until(removed, "and through the remove step again")
        steps = await _steps(engine, instance)
        assert steps[1] == ("add", "out", "done already (added)")
        assert steps[2][:2] == ("check", "else")  # not added again: she is not in the list
        assert steps[4] == ("remove", "out", "done already (removed)")
        assert [c["change"] for c in _changes(server, "vips")] == ["entered", "exited"]
        assert _members(server, "vips") == []


async def test_a_computed_or_missing_audience_takes_the_error_port(
    server: RunningServer, engine: AsyncEngine
) -> None:
    buyers = {"version": 1, "condition": {"type": "event", "event": "Order Completed"}}
    server.api(
        "POST", f"{BASE}/audiences", json={"key": "buyers", "name": "B", "definition": buyers}
    )
    _journey(
        server,
        "wrong",
        {
            "version": 1,
            "trigger": {"type": "event", "event": "Signed Up"},
            "start": "computed",
            "nodes": {
                "computed": _membership("add", "buyers", out="done", error="missing"),
                # its error port left unconnected: the instance fails with the reason
                "missing": _membership("remove", "ghosts", out="done"),
                "done": {"type": "exit"},
            },
        },
    )
    _send(server, _track("bo", "Signed Up"))

    async def failed() -> dict[str, Any] | None:
        found = await _instance(engine, "wrong", "bo")
        return found if found.get("state") == "failed" else None

    instance = await _until(failed, "bo's instance fails")
    assert instance["error"] == "no audience ghosts"
    assert await _steps(engine, instance["id"]) == [
        (
            "computed",
            "error",
            "audience buyers is computed from its condition: only a list audience's members"
            " are set",
        ),
        ("missing", "error", "no audience ghosts"),
    ]
    assert server.api("GET", f"{BASE}/audiences/buyers")["size"] == 0
