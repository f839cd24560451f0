"""List audiences on a running ``headwater serve``: members added and removed through the API
(by profile id and by identifiers, in batches, unknown ones named without stopping the others),
idempotent, recorded and counted as computed audiences' changes are, sent to a destination by
the activation relay, never recomputed away, and kept through a profile merge."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.audiences.test_api import call, eventually, send
from tests.destinations.sink import Sink
from tests.server import RunningServer

LIST = {"version": 1, "list": True}
BUYERS = {"version": 1, "condition": {"type": "event", "event": "Order Completed"}}


def _profile(server: RunningServer, identifier: str) -> str | None:
    found = call(server, "GET", "/profiles", params={"identifier": identifier}).json()
    return found[0]["id"] if found else None


def _members(server: RunningServer, key: str) -> list[str]:
    page = call(server, "GET", f"/audiences/{key}/members").json()
    return [m["profile_id"] for m in page["data"]]


def _changes(server: RunningServer, key: str) -> list[tuple[str, str, str]]:
    """(change, profile, cause), oldest first."""
    page = call(server, "GET", f"/audiences/{key}/changes").json()
    return [(c["change"], c["profile_id"], c["cause"]) for c in reversed(page["data"])]


def _add(server: RunningServer, key: str, *members: dict[str, str]) -> httpx.Response:
    return call(server, "POST", f"/audiences/{key}/members", json={"members": list(members)})


def _remove(server: RunningServer, key: str, *members: dict[str, str]) -> httpx.Response:
    body = {"members": list(members)}
    return call(server, "POST", f"/audiences/{key}/members/remove", json=body)


def _people(server: RunningServer) -> tuple[str, str]:
    """Profiles of ada (user id, email) and bo (an anonymous id only)."""
    send(
        server,
        {"type": "identify", "userId": "ada", "traits": {"email": "ada@example.com"}},
        {"type": "track", "anonymousId": "anon-bo", "event": "Viewed"},
    )
    ada = eventually(lambda: _profile(server, "user_id:ada"))
    bo = eventually(lambda: _profile(server, "anonymous_id:anon-bo"))
    assert ada
    assert bo
    return ada, bo


def test_members_are_added_and_removed_by_identifier_once(server: RunningServer) -> None:
    with Sink() as sink:
        hook = server.api(
            "POST",
            "/api/v1/workspaces/default/destinations",
            json={"name": "hook", "kind": "webhook", "config": {"url": sink.url}},
        )["id"]
        made = call(
            server,
            "POST",
            "/audiences",
            json={"key": "vips", "name": "VIPs", "definition": LIST, "destinations": [hook]},
        )
        assert made.status_code == 201, made.text
        assert made.json()["realtime"] is False
        ada, bo = _people(server)

        added = _add(
            server,
            "vips",
            {"user_id": "ada"},
            {"anonymous_id": "anon-bo"},
            {"email": " ADA@example.com "},  # ada again, as emails are kept: lower case
            {"user_id": "nobody"},
        )
        assert added.status_code == 207, added.text  # some found and added, one not found
        body = added.json()
        assert (body["added"], body["removed"], body["unchanged"]) == (2, 0, 1)
        assert body["results"] == [
            {"index": 0, "profile_id": ada, "result": "added"},
            {"index": 1, "profile_id": bo, "result": "added"},
            {"index": 2, "profile_id": ada, "result": "unchanged"},
        ]
        assert body["problems"] == [
            {"path": "members.3", "message": "no profile with user_id nobody"}
        ]
        assert sorted(_members(server, "vips")) == sorted([ada, bo])
        assert call(server, "GET", "/audiences/vips").json()["size"] == 2

        again = _add(server, "vips", {"profile_id": ada})
        assert again.status_code == 200
        assert (again.json()["added"], again.json()["unchanged"]) == (0, 1)
        removed = _remove(server, "vips", {"user_id": "ada"}, {"user_id": "ada"})
        assert removed.status_code == 200
        assert (removed.json()["removed"], removed.json()["unchanged"]) == (1, 1)
        assert _remove(server, "vips", {"user_id": "ada"}).json()["unchanged"] == 1

        entries = sorted([("entered", ada, "manual"), ("entered", bo, "manual")])
        assert _changes(server, "vips") == [*entries, ("exited", ada, "manual")]
        [long_ago] = call(
            server,
            "GET",
            "/audiences/vips/changes/totals",
            params={"since": "2000-01-01", "interval": "day", "until": "2000-01-02"},
        ).json()
        assert long_ago["entered"] == 0  # nothing back then: the totals count by time
        totals = call(server, "GET", "/audiences/vips/changes/totals").json()
        assert (sum(b["entered"] for b in totals), sum(b["exited"] for b in totals)) == (2, 1)

        # the relay sends the changes as it sends a computed audience's
        def sent() -> list[tuple[str, bool]]:
            found = [
                (body.get("userId") or body.get("anonymousId"), body["properties"]["vips"])
                for body in (r.json() for r in list(sink.requests))
                if body.get("event") in ("Audience Entered", "Audience Exited")
            ]
            return found if len(found) >= 3 else []

        assert sorted(eventually(sent)) == [("ada", False), ("ada", True), ("anon-bo", True)]

        # a recompute (on demand, or the schedule's) never empties a list
        recomputed = call(server, "POST", "/audiences/vips/recompute").json()
        assert (recomputed["entered"], recomputed["exited"]) == (0, 0)
        assert _members(server, "vips") == [bo]


def test_bad_requests_change_nothing_and_say_why(server: RunningServer) -> None:
    call(server, "POST", "/audiences", json={"key": "vips", "name": "VIPs", "definition": LIST})
    call(server, "POST", "/audiences", json={"key": "buyers", "name": "B", "definition": BUYERS})
    _people(server)

    nobody = _add(server, "vips", {"user_id": "nobody"}, {"profile_id": "prf_none"})
    assert nobody.status_code == 404
    assert nobody.json()["code"] == "members_not_found"
    assert [p["path"] for p in nobody.json()["problems"]] == ["members.0", "members.1"]

    two_names = _add(server, "vips", {"user_id": "ada", "email": "ada@example.com"})
    assert two_names.status_code == 400
    assert two_names.json()["problems"][0]["path"] == "members.0"
    assert _add(server, "vips").status_code == 400  # no member
    many = [{"user_id": f"u{i}"} for i in range(1001)]
    assert _add(server, "vips", *many).status_code == 400
    assert _members(server, "vips") == []

    computed = _add(server, "buyers", {"user_id": "ada"})
    assert computed.status_code == 409
    assert computed.json()["code"] == "not_a_list"
    assert _add(server, "ghosts", {"user_id": "ada"}).status_code == 404
    assert _changes(server, "vips") == []


def test_a_list_definition_is_a_list_and_stays_one(server: RunningServer) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({**LIST, "condition": BUYERS["condition"]}, "condition"),
        ({"version": 1, "list": False}, "list"),
        ({"version": 2, "list": True}, "version"),
    ]
    for definition, path in cases:
        refused = call(
            server, "POST", "/audiences", json={"key": "x", "name": "X", "definition": definition}
        )
        assert refused.status_code == 400, definition
        assert refused.json()["problems"][0]["path"] == path
    accounts = call(
        server,
        "POST",
        "/audiences",
        json={"key": "x", "name": "X", "definition": LIST, "subject": "account"},
    )
    assert accounts.status_code == 400
    assert call(server, "POST", "/audiences/preview", json={"definition": LIST}).status_code == 400

    call(server, "POST", "/audiences", json={"key": "vips", "name": "VIPs", "definition": LIST})
    call(server, "POST", "/audiences", json={"key": "buyers", "name": "B", "definition": BUYERS})
    assert call(server, "PATCH", "/audiences/vips", json={"definition": BUYERS}).status_code == 400
    assert call(server, "PATCH", "/audiences/buyers", json={"definition": LIST}).status_code == 400
    # other audiences may name a list
    in_list = {"version": 1, "condition": {"type": "audience", "audience": "vips"}}
    named = call(
        server, "POST", "/audiences", json={"key": "y", "name": "Y", "definition": in_list}
    )
    assert named.status_code == 201, named.text
    assert call(server, "DELETE", "/audiences/vips").status_code == 409  # y names it


def test_a_merge_keeps_the_membership(server: RunningServer) -> None:
    call(server, "POST", "/audiences", json={"key": "vips", "name": "VIPs", "definition": LIST})
    send(
        server,
        {"type": "track", "anonymousId": "anon-dee", "event": "Viewed"},
        {"type": "identify", "userId": "dee", "traits": {"plan": "pro"}},
    )
    anonymous = eventually(lambda: _profile(server, "anonymous_id:anon-dee"))
    known = eventually(lambda: _profile(server, "user_id:dee"))
    assert anonymous
    assert known
    assert anonymous != known
    assert _add(server, "vips", {"anonymous_id": "anon-dee"}).json()["added"] == 1

    # one call names both: the two profiles merge into one
    send(server, {"type": "identify", "userId": "dee", "anonymousId": "anon-dee"})

    def merged() -> str | None:
        live = _profile(server, "user_id:dee")
        return live if live == _profile(server, "anonymous_id:anon-dee") else None

    live = eventually(merged)
    assert live
    assert eventually(lambda: _members(server, "vips") == [live])
    if live == known:  # the member was merged away: the profile it now is took its place
        assert _changes(server, "vips") == [
            ("entered", anonymous, "manual"),
            ("exited", anonymous, "merged"),
            ("entered", known, "event"),
        ]
    else:  # the member survived the merge: nothing changed
        assert _changes(server, "vips") == [("entered", anonymous, "manual")]


async def test_a_member_added_as_it_merged_away_is_moved_by_the_recompute(
    server: RunningServer, engine: AsyncEngine
) -> None:
    call(server, "POST", "/audiences", json={"key": "vips", "name": "VIPs", "definition": LIST})
    send(server, {"type": "track", "anonymousId": "anon-eve", "event": "Viewed"})
    anonymous = eventually(lambda: _profile(server, "anonymous_id:anon-eve"))
    send(server, {"type": "identify", "userId": "eve", "traits": {"plan": "pro"}})
    known = eventually(lambda: _profile(server, "user_id:eve"))
    assert known != anonymous
    send(server, {"type": "identify", "userId": "eve", "anonymousId": "anon-eve"})

    def merged() -> str | None:
        live = _profile(server, "user_id:eve")
        return live if live == _profile(server, "anonymous_id:anon-eve") else None

    live = eventually(merged)
    gone = anonymous if live == known else known
    # the membership written by an addition that read the profile just before it merged
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO computed_values (computation_id, profile_id, value, since,"
                " updated_at) SELECT id, :p, 'true', now(), now() FROM computations"
                " WHERE key = 'vips'"
            ),
            {"p": gone},
        )
    recomputed = call(server, "POST", "/audiences/vips/recompute").json()
    assert (recomputed["entered"], recomputed["exited"]) == (1, 1)
    assert _members(server, "vips") == [live]
    assert _changes(server, "vips") == [("exited", gone, "merged"), ("entered", live, "recompute")]
