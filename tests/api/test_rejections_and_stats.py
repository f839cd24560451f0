"""Rejected messages and counts through the management API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import Api, unique


def _reject_some(api: Api, write_key: str) -> list[str]:
    """Send a batch of one valid and three invalid messages; return the invalid ones' ids."""
    ids = [unique("bad") for _ in range(3)]
    api.track(
        write_key,
        "/v1/batch",
        batch=[
            {"type": "track", "userId": "u1", "event": "Valid", "messageId": unique("ok")},
            {"type": "track", "userId": "u1", "messageId": ids[0]},
            {"type": "identify", "traits": {"plan": "pro"}, "messageId": ids[1]},
            {"type": "purchase", "userId": "u1", "messageId": ids[2]},
        ],
    )
    return ids


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- rejections ------------------------------------------------------------------------------


def test_rejections_are_listed_with_their_reasons(api: Api) -> None:
    source = api.source()
    ids = _reject_some(api, source["write_key"])

    rejected = api.ok(
        "GET", "/api/v1/workspaces/default/rejections", params={"source": source["id"]}
    )
    assert [r["messageId"] for r in rejected] == ids[::-1]
    assert [r["index"] for r in rejected] == [3, 2, 1]
    assert [r["type"] for r in rejected] == ["purchase", "identify", "track"]
    reasons = [r["reason"] for r in rejected]
    assert "unknown type 'purchase'" in reasons[0]
    assert "userId or anonymousId is required" in reasons[1]
    assert "track requires event" in reasons[2]
    assert rejected[1]["payload"]["traits"] == {"plan": "pro"}
    assert {r["sourceId"] for r in rejected} == {source["id"]}
    ids_desc = [r["id"] for r in rejected]
    assert ids_desc == sorted(ids_desc, reverse=True)
    assert abs(datetime.now(UTC) - _time(rejected[0]["receivedAt"])) < timedelta(minutes=5)
    # The valid message of the batch was stored.
    stored = api.ok(
        "GET", f"/api/v1/workspaces/{source['workspace']}/sources/{source['id']}/events"
    )
    assert [e["name"] for e in stored] == ["Valid"]


def test_rejections_are_filtered_by_workspace_and_source(api: Api) -> None:
    workspace = api.workspace()
    there = api.source(workspace=workspace)
    here = api.source()
    there_ids = _reject_some(api, there["write_key"])
    _reject_some(api, here["write_key"])

    in_workspace = api.ok("GET", f"/api/v1/workspaces/{workspace}/rejections")
    assert [r["messageId"] for r in in_workspace] == there_ids[::-1]
    in_default = api.ok("GET", "/api/v1/workspaces/default/rejections")
    assert {r["sourceId"] for r in in_default} >= {here["id"]}
    assert there["id"] not in {r["sourceId"] for r in in_default}
    mismatched = {"source": here["id"]}
    assert api.ok("GET", f"/api/v1/workspaces/{workspace}/rejections", params=mismatched) == []
    api.error("GET", "/api/v1/workspaces/no-such-workspace/rejections", 404, "workspace_not_found")


def test_rejections_are_paged(api: Api) -> None:
    source = api.source()
    ids = _reject_some(api, source["write_key"])
    params: dict[str, Any] = {"source": source["id"], "limit": 2}

    first = api.ok("GET", "/api/v1/workspaces/default/rejections", params=params)
    assert [r["messageId"] for r in first] == [ids[2], ids[1]]
    rest = api.ok(
        "GET", "/api/v1/workspaces/default/rejections", params={**params, "before": first[-1]["id"]}
    )
    assert [r["messageId"] for r in rest] == [ids[0]]
    last = api.ok(
        "GET", "/api/v1/workspaces/default/rejections", params={**params, "before": rest[-1]["id"]}
    )
    assert last == []
    api.error(
        "GET", "/api/v1/workspaces/default/rejections", 422, "invalid_request", params={"limit": 0}
    )


# --- counts ----------------------------------------------------------------------------------


def _traffic(api: Api, write_key: str) -> None:
    """Three accepted (two Viewed, one Bought), one duplicate, one rejected."""
    first = unique("m")
    for event, message_id in [("Viewed", first), ("Viewed", unique("m")), ("Bought", unique("m"))]:
        api.track(write_key, userId="u1", event=event, messageId=message_id)
    api.track(write_key, userId="u1", event="Viewed", messageId=first)
    api.track(write_key, userId="u1", messageId=unique("m"))


def _totals(rows: list[dict[str, Any]]) -> tuple[int, int, int]:
    return (
        sum(r["accepted"] for r in rows),
        sum(r["duplicates"] for r in rows),
        sum(r["rejected"] for r in rows),
    )


def test_stats_count_accepted_duplicates_and_rejected_by_source(api: Api) -> None:
    source, quiet = api.source(), api.source()
    _traffic(api, source["write_key"])

    rows = api.ok("GET", "/api/v1/workspaces/default/stats", params={"source": source["id"]})
    assert rows, "no counts"
    assert {r["sourceId"] for r in rows} == {source["id"]}
    assert _totals(rows) == (3, 1, 1)
    for row in rows:
        bucket = _time(row["bucket"])
        assert (bucket.minute, bucket.second) == (0, 0)
        assert datetime.now(UTC) - bucket < timedelta(hours=2)
        assert "event" not in row
    assert api.ok("GET", "/api/v1/workspaces/default/stats", params={"source": quiet["id"]}) == []
    everything = api.ok("GET", "/api/v1/workspaces/default/stats")
    assert source["id"] in {r["sourceId"] for r in everything}


def test_stats_count_by_event(api: Api) -> None:
    source = api.source()
    _traffic(api, source["write_key"])

    rows = api.ok(
        "GET", "/api/v1/workspaces/default/stats", params={"source": source["id"], "by": "event"}
    )
    by_event: dict[tuple[str, str | None], list[int]] = {}
    for row in rows:
        totals = by_event.setdefault((row["type"], row["event"]), [0, 0, 0])
        for i, field in enumerate(("accepted", "duplicates", "rejected")):
            totals[i] += row[field]
    assert by_event == {
        ("track", "Viewed"): [2, 1, 0],
        ("track", "Bought"): [1, 0, 0],
        ("track", None): [0, 0, 1],
    }


@pytest.mark.parametrize("interval", ["minute", "hour", "day"])
def test_stats_are_bucketed_by_interval(api: Api, interval: str) -> None:
    source = api.source()
    _traffic(api, source["write_key"])
    since = (datetime.now(UTC) - timedelta(days=2)).isoformat()

    rows = api.ok(
        "GET",
        "/api/v1/workspaces/default/stats",
        params={"source": source["id"], "interval": interval, "since": since},
    )
    assert _totals(rows) == (3, 1, 1)
    for row in rows:
        bucket = _time(row["bucket"])
        assert bucket.second == 0
        if interval in ("hour", "day"):
            assert bucket.minute == 0
        if interval == "day":
            assert bucket.hour == 0
    assert len(rows) <= 2  # the traffic took well under a minute, at most across one boundary


def test_stats_are_limited_to_a_time_range(api: Api) -> None:
    source = api.source()
    _traffic(api, source["write_key"])
    now = datetime.now(UTC)

    def stats(since: datetime, until: datetime) -> Any:
        params = {"source": source["id"], "since": since.isoformat(), "until": until.isoformat()}
        return api.ok("GET", "/api/v1/workspaces/default/stats", params=params)

    assert stats(now - timedelta(days=3), now - timedelta(days=2)) == []
    assert stats(now + timedelta(hours=1), now + timedelta(hours=2)) == []
    assert _totals(stats(now - timedelta(hours=1), now + timedelta(minutes=5))) == (3, 1, 1)
    # A time without an offset is UTC.
    naive = {"source": source["id"], "since": (now - timedelta(hours=1)).replace(tzinfo=None)}
    assert _totals(api.ok("GET", "/api/v1/workspaces/default/stats", params=naive)) == (3, 1, 1)


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, 400, "invalid_range"),
        ({"since": "2026-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, 400, "invalid_range"),
        ({"interval": "week"}, 422, "invalid_request"),
        ({"by": "person"}, 422, "invalid_request"),
        ({"since": "yesterday"}, 422, "invalid_request"),
    ],
)
def test_invalid_stats_requests_are_refused(
    api: Api, params: dict[str, str], status: int, code: str
) -> None:
    api.error("GET", "/api/v1/workspaces/default/stats", status, code, params=params)


def test_stats_of_an_unknown_workspace_are_not_found(api: Api) -> None:
    api.error("GET", "/api/v1/workspaces/no-such-one/stats", 404, "workspace_not_found")
