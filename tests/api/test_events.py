"""Stored events through the management API: by messageId, newest first, and live (SSE)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import Api, unique
from tests.server import WRITE_KEY

# --- one event by messageId ------------------------------------------------------------------


def test_an_event_is_got_by_message_id(api: Api) -> None:
    message_id = unique("order")
    api.track(
        WRITE_KEY,
        userId="u-42",
        event="Order Completed",
        messageId=message_id,
        properties={"revenue": 9.99, "currency": "EUR"},
        timestamp="2026-03-01T08:00:00+01:00",
    )
    event = api.ok("GET", f"/api/v1/workspaces/default/events/{message_id}")
    assert event["messageId"] == message_id
    assert event["type"] == "track"
    assert event["name"] == "Order Completed"
    assert isinstance(event["offset"], int)
    assert event["offset"] > 0
    assert isinstance(event["partition"], int)
    assert event["receivedAt"].endswith("Z")
    payload = event["payload"]
    assert payload["userId"] == "u-42"
    assert payload["properties"] == {"revenue": 9.99, "currency": "EUR"}
    assert payload["originalTimestamp"] == "2026-03-01T07:00:00.000Z"
    assert payload["receivedAt"] == event["receivedAt"]


def test_an_unknown_event_is_not_found(api: Api) -> None:
    api.error(
        "GET", f"/api/v1/workspaces/default/events/{unique('nothing')}", 404, "event_not_found"
    )
    api.error(
        "GET",
        f"/api/v1/workspaces/no-such-workspace/events/{unique('nothing')}",
        404,
        "workspace_not_found",
    )


def test_an_event_is_looked_up_in_a_workspace(api: Api) -> None:
    workspace = api.workspace()
    source = api.source(workspace=workspace)
    only_there, everywhere = unique("only-there"), unique("everywhere")
    api.track(source["write_key"], userId="u1", event="There", messageId=only_there)
    api.track(source["write_key"], userId="u1", event="There", messageId=everywhere)
    api.track(WRITE_KEY, userId="u1", event="Here", messageId=everywhere)

    api.error("GET", f"/api/v1/workspaces/default/events/{only_there}", 404, "event_not_found")
    found = api.ok("GET", f"/api/v1/workspaces/{workspace}/events/{only_there}")
    assert found["sourceId"] == source["id"]
    # Dedup is per workspace: one messageId is two events in two workspaces.
    there = api.ok("GET", f"/api/v1/workspaces/{workspace}/events/{everywhere}")
    here = api.ok("GET", f"/api/v1/workspaces/default/events/{everywhere}")
    assert (there["sourceId"], there["name"]) == (source["id"], "There")
    assert here["name"] == "Here"
    assert here["sourceId"] != source["id"]


# --- a source's newest events ----------------------------------------------------------------


def _send_batch(api: Api, write_key: str, count: int) -> list[str]:
    ids = [unique(f"b{i}") for i in range(count)]
    api.track(
        write_key,
        "/v1/batch",
        batch=[
            {"type": "track", "userId": f"user-{i % 3}", "event": f"Step {i}", "messageId": m}
            for i, m in enumerate(ids)
        ],
    )
    return ids


def test_a_sources_events_come_newest_first(api: Api) -> None:
    source = api.source()
    ids = _send_batch(api, source["write_key"], 5)
    other = api.source()
    _send_batch(api, other["write_key"], 2)

    events = api.ok(
        "GET", f"/api/v1/workspaces/{source['workspace']}/sources/{source['id']}/events"
    )
    assert [e["messageId"] for e in events] == ids[::-1]
    offsets = [e["offset"] for e in events]
    assert offsets == sorted(offsets, reverse=True)
    assert {e["sourceId"] for e in events} == {source["id"]}


def test_a_sources_events_are_paged_with_limit_and_before(api: Api) -> None:
    source = api.source()
    ids = _send_batch(api, source["write_key"], 5)
    path = f"/api/v1/workspaces/{source['workspace']}/sources/{source['id']}/events"

    first = api.ok("GET", path, params={"limit": 2})
    assert [e["messageId"] for e in first] == [ids[4], ids[3]]
    paged, before = [], None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if before is not None:
            params["before"] = before
        page = api.ok("GET", path, params=params)
        if not page:
            break
        assert len(page) <= 2
        paged += [e["messageId"] for e in page]
        before = page[-1]["offset"]
    assert paged == ids[::-1]


@pytest.mark.parametrize("limit", [0, 1001, -1])
def test_an_invalid_limit_is_refused(api: Api, limit: int) -> None:
    body = api.error(
        "GET",
        "/api/v1/workspaces/default/sources/1/events",
        422,
        "invalid_request",
        params={"limit": limit},
    )
    assert body["errors"][0]["field"].endswith("limit")


def test_events_of_an_unknown_source_are_not_found(api: Api) -> None:
    api.error("GET", "/api/v1/workspaces/default/sources/999999/events", 404, "source_not_found")


# --- the live feed ---------------------------------------------------------------------------


def frames(response: httpx.Response) -> Iterator[dict[str, str]]:
    """Server-sent events as dicts of their fields; a comment frame as ``{"comment": ...}``."""
    frame: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if frame:
                yield frame
            frame = {}
        elif line.startswith(":"):
            frame["comment"] = line[1:].strip()
        else:
            field, _, value = line.partition(":")
            frame[field] = value.removeprefix(" ")


def _live(api: Api, source_id: int, **kwargs: Any) -> Any:
    return api.client.stream(
        "GET",
        f"/api/v1/workspaces/default/sources/{source_id}/live",
        timeout=httpx.Timeout(15),
        **kwargs,
    )


def _event_frames(stream: Iterator[dict[str, str]], count: int) -> list[dict[str, Any]]:
    """The next ``count`` events; each frame's id is the event's offset."""
    events = []
    for _ in range(count):
        frame = next(stream)
        assert frame["event"] == "event", frame
        data = json.loads(frame["data"])
        assert int(frame["id"]) == data["offset"]
        events.append(data)
    return events


def test_the_live_feed_streams_new_events(api: Api) -> None:
    source = api.source()
    api.track(source["write_key"], userId="u1", event="Before Connecting")
    ids = [unique(f"live{i}") for i in range(3)]

    with _live(api, source["id"]) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        stream = frames(response)
        assert next(stream) == {"comment": "connected"}
        for i, message_id in enumerate(ids):
            api.track(source["write_key"], userId=f"u{i}", event=f"Live {i}", messageId=message_id)
        events = _event_frames(stream, 3)

    assert [e["messageId"] for e in events] == ids
    assert [e["payload"]["event"] for e in events] == ["Live 0", "Live 1", "Live 2"]
    assert {e["sourceId"] for e in events} == {source["id"]}
    offsets = [e["offset"] for e in events]
    assert offsets == sorted(offsets)


def test_the_live_feed_resumes_after_last_event_id(api: Api) -> None:
    source = api.source()
    ids = _send_batch(api, source["write_key"], 4)
    stored = api.ok(
        "GET", f"/api/v1/workspaces/{source['workspace']}/sources/{source['id']}/events"
    )[::-1]
    assert [e["messageId"] for e in stored] == ids

    with _live(api, source["id"], headers={"Last-Event-ID": str(stored[1]["offset"])}) as response:
        stream = frames(response)
        assert next(stream) == {"comment": "connected"}
        assert [e["messageId"] for e in _event_frames(stream, 2)] == ids[2:]
        # Then it goes on with what arrives.
        later = unique("later")
        api.track(source["write_key"], userId="u1", event="Later", messageId=later)
        assert [e["messageId"] for e in _event_frames(stream, 1)] == [later]

    with _live(api, source["id"], params={"after": stored[0]["offset"]}) as response:
        stream = frames(response)
        next(stream)
        assert [e["messageId"] for e in _event_frames(stream, 3)] == ids[1:]

    with _live(api, source["id"], params={"after": 0}) as response:
        stream = frames(response)
        next(stream)
        assert [e["messageId"] for e in _event_frames(stream, 4)] == ids


def test_the_live_feed_of_an_unknown_source_is_not_found(api: Api) -> None:
    with _live(api, 999999) as response:
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/json")
        response.read()
        assert response.json()["code"] == "source_not_found"


def _next_of(stream: Iterator[dict[str, str]], kind: str) -> dict[str, Any]:
    """The data of the next frame of ``kind`` (``event`` or ``fate``)."""
    for frame in stream:
        if frame.get("event") == kind:
            return json.loads(frame["data"])  # type: ignore[no-any-return]
    raise AssertionError(f"the feed ended before a {kind} frame")


def test_the_live_feed_shows_each_message_s_fate(api: Api) -> None:
    """Rejected (with the reason), duplicate (kept for the debugger), blocked by a plan (after
    its stored frame): nothing a source sends goes by unseen."""
    workspace = api.workspace()
    source = api.source(workspace=workspace)
    base = f"/api/v1/workspaces/{workspace}"
    paid = {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]}
    plan = {"name": "Web", "events": [{"name": "Paid", "schema": paid}]}
    api.ok("POST", f"{base}/tracking-plans", 201, json=plan)
    connect = {"plan": "web", "settings": {"violations": "block"}}
    api.ok("PUT", f"{base}/sources/{source['id']}/tracking-plan", json=connect)
    first = unique("first")
    api.track(source["write_key"], userId="u1", event="Seen", messageId=first)

    with api.client.stream(
        "GET", f"{base}/sources/{source['id']}/live", timeout=httpx.Timeout(15)
    ) as response:
        stream = frames(response)
        assert next(stream) == {"comment": "connected"}
        api.track(source["write_key"], userId="u1", event="Seen", messageId=first)
        duplicate = _next_of(stream, "fate")
        api.track(source["write_key"], event="No One")  # 200: non-strict sources record it
        rejected = _next_of(stream, "fate")
        blocked_id = unique("blocked")
        api.track(
            source["write_key"],
            userId="u1",
            event="Paid",
            messageId=blocked_id,
            properties={"total": "a lot"},
        )
        stored = _next_of(stream, "event")
        blocked = _next_of(stream, "fate")

    assert (duplicate["fate"], duplicate["messageId"], duplicate["name"]) == (
        "duplicate",
        first,
        "Seen",
    )
    assert duplicate["payload"]["event"] == "Seen"
    assert rejected["fate"] == "rejected"
    assert "userId" in rejected["reason"]
    assert stored["messageId"] == blocked_id
    assert (blocked["fate"], blocked["messageId"], blocked["reason"]) == (
        "blocked",
        blocked_id,
        "violations",
    )
    assert blocked["violations"]
    assert {duplicate["sourceId"], rejected["sourceId"], blocked["sourceId"]} == {source["id"]}


def test_the_live_feed_shows_a_flagged_message(api: Api) -> None:
    """Let through by a plan with violations (``flag``: under ``context.violations``; ``omit``:
    the offending fields removed): flagged after its stored frame, with the violations and the
    payload as later stages receive it. One let through as sent (``allow``) is not flagged."""
    workspace = api.workspace()
    source = api.source(workspace=workspace)
    base = f"/api/v1/workspaces/{workspace}"
    paid = {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]}
    api.ok(
        "POST",
        f"{base}/tracking-plans",
        201,
        json={"name": "Web", "events": [{"name": "Paid", "schema": paid}]},
    )
    connect = f"{base}/sources/{source['id']}/tracking-plan"
    api.ok("PUT", connect, json={"plan": "web", "settings": {"violations": "flag"}})

    with api.client.stream(
        "GET", f"{base}/sources/{source['id']}/live", timeout=httpx.Timeout(15)
    ) as response:
        stream = frames(response)
        assert next(stream) == {"comment": "connected"}
        flagged_id = unique("flagged")
        paid_wrongly = {"total": "a lot"}
        api.track(
            source["write_key"],
            userId="u1",
            event="Paid",
            messageId=flagged_id,
            properties=paid_wrongly,
        )
        stored = _next_of(stream, "event")
        flagged = _next_of(stream, "fate")

        settings = {"violations": "allow", "unplanned_properties": "omit"}
        api.ok("PUT", connect, json={"plan": "web", "settings": settings})
        allowed_id, trimmed_id = unique("allowed"), unique("trimmed")
        api.track(
            source["write_key"],
            userId="u1",
            event="Paid",
            messageId=allowed_id,
            properties=paid_wrongly,
        )
        api.track(
            source["write_key"],
            userId="u1",
            event="Paid",
            messageId=trimmed_id,
            properties={"total": 5, "coupon": "SPRING"},
        )
        fates = []
        while not fates or fates[-1]["messageId"] != trimmed_id:
            fates.append(_next_of(stream, "fate"))

    assert stored["messageId"] == flagged_id
    assert stored["payload"]["properties"] == paid_wrongly  # the log keeps it as sent
    assert (flagged["fate"], flagged["messageId"], flagged["name"]) == (
        "flagged",
        flagged_id,
        "Paid",
    )
    assert flagged["sourceId"] == source["id"]
    assert [v["type"] for v in flagged["violations"]] == ["datatype_mismatch"]
    assert flagged["payload"]["context"]["violations"] == flagged["violations"]
    # allowed: stored as sent and passed on as sent, so nothing to show but the stored frame
    assert [f["messageId"] for f in fates] == [trimmed_id]
    trimmed = fates[0]
    assert trimmed["fate"] == "flagged"
    assert [(v["type"], v["path"]) for v in trimmed["violations"]] == [
        ("additional_property", "properties.coupon")
    ]
    assert trimmed["payload"]["properties"] == {"total": 5}
