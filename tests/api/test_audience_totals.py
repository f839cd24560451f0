"""Totals of an audience's and a computed trait's changes per day or hour
(``GET .../changes/totals``): every bucket of the range, counts that agree with the changes the
system recorded (their ``at``, the time they were computed), bounds that include ``since`` and
exclude ``until``, and bad ranges refused.

Changes carry the time they were computed, not the events' own timestamps, so a test cannot
place them on chosen days: the buckets are checked against the times the changes list shows."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from headwater.spec import parse_timestamp
from tests.api.conftest import Api

PRO = {
    "version": 1,
    "condition": {"type": "trait", "trait": "plan", "operator": "equals", "value": "pro"},
}
ORDERS = {"version": 1, "kind": "counter", "event": "Order Completed"}


def _eventually(probe: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := probe()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def _changes(api: Api, base: str) -> list[dict[str, Any]]:
    return api.ok("GET", f"{base}/changes?limit=1000")["data"]  # type: ignore[no-any-return]


def _wait_for(api: Api, base: str, count: int) -> list[dict[str, Any]]:
    found = _eventually(lambda: len(changes := _changes(api, base)) >= count and changes)
    assert found, _changes(api, base)
    return found  # type: ignore[no-any-return]


def _at(change: dict[str, Any]) -> datetime:
    return parse_timestamp(change["at"])


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _audience_with_entries_and_an_exit(api: Api) -> tuple[str, list[dict[str, Any]]]:
    """A workspace's audience ``pro``: three profiles entered, then one of them exited."""
    workspace = api.workspace()
    key = str(api.source(workspace=workspace)["write_key"])
    base = f"/api/v1/workspaces/{workspace}/audiences/pro"
    api.ok(
        "POST",
        f"/api/v1/workspaces/{workspace}/audiences",
        201,
        json={"key": "pro", "name": "Pro", "definition": PRO},
    )
    for user in ("u1", "u2", "u3"):
        api.track(key, "/v1/identify", userId=user, traits={"plan": "pro"})
    _wait_for(api, base, 3)
    api.track(key, "/v1/identify", userId="u1", traits={"plan": "free"})
    return base, _wait_for(api, base, 4)


def test_totals_count_entries_and_exits_per_day_and_hour(api: Api) -> None:
    base, changes = _audience_with_entries_and_an_exit(api)
    assert Counter(c["change"] for c in changes) == {"entered": 3, "exited": 1}

    days = api.ok("GET", f"{base}/changes/totals")
    # the last 30 days, whole: the day holding "30 days ago" to today, every day present
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [parse_timestamp(b["bucket"]) for b in days]
    assert starts == [today - timedelta(days=30 - i) for i in range(31)]
    expected = Counter(
        (_at(c).replace(hour=0, minute=0, second=0, microsecond=0), c["change"]) for c in changes
    )
    for bucket, start in zip(days, starts, strict=True):
        assert bucket["entered"] == expected[(start, "entered")], bucket
        assert bucket["exited"] == expected[(start, "exited")], bucket
        assert bucket["updated"] == 0
    assert sum(b["entered"] for b in days) == 3

    now = datetime.now(UTC)
    hours = api.ok(
        "GET",
        f"{base}/changes/totals",
        params={"interval": "hour", "since": _iso(now - timedelta(hours=3)), "until": _iso(now)},
    )
    hour_starts = [parse_timestamp(b["bucket"]) for b in hours]
    first_hour = (now - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    assert hour_starts == [first_hour + timedelta(hours=i) for i in range(len(hours))]
    assert len(hours) in (4, 5)  # 5 when "now" is not on the hour
    for bucket, start in zip(hours, hour_starts, strict=True):
        inside = [c for c in changes if start <= _at(c) < start + timedelta(hours=1)]
        assert bucket["entered"] == sum(c["change"] == "entered" for c in inside)
        assert bucket["exited"] == sum(c["change"] == "exited" for c in inside)


def test_since_is_included_and_until_excluded(api: Api) -> None:
    base, changes = _audience_with_entries_and_an_exit(api)
    exit_at = next(_at(c) for c in changes if c["change"] == "exited")
    entered_before = sum(c["change"] == "entered" and _at(c) < exit_at for c in changes)
    assert entered_before == 3  # the exit was sent after the entries were seen

    def totals(**params: str) -> tuple[int, int]:
        found = api.ok("GET", f"{base}/changes/totals", params={"interval": "hour", **params})
        return sum(b["entered"] for b in found), sum(b["exited"] for b in found)

    day_before = exit_at - timedelta(days=1)
    assert totals(since=_iso(day_before), until=_iso(exit_at)) == (3, 0)
    assert totals(since=_iso(exit_at), until=_iso(exit_at + timedelta(days=1))) == (0, 1)
    # a time without an offset is UTC
    naive = exit_at.replace(tzinfo=None).isoformat()
    assert totals(since=naive, until=_iso(exit_at + timedelta(hours=1))) == (0, 1)
    # a range before anything changed: every bucket is there, all zero
    long_ago = api.ok(
        "GET",
        f"{base}/changes/totals",
        params={"since": "2020-01-01T00:00:00Z", "until": "2020-01-08T00:00:00Z"},
    )
    assert [b["bucket"] for b in long_ago] == [f"2020-01-0{d}T00:00:00.000Z" for d in range(1, 8)]
    assert {(b["entered"], b["exited"], b["updated"]) for b in long_ago} == {(0, 0, 0)}


def test_a_computed_trait_counts_its_updates(api: Api) -> None:
    workspace = api.workspace()
    key = str(api.source(workspace=workspace)["write_key"])
    base = f"/api/v1/workspaces/{workspace}/computed-traits/orders"
    api.ok(
        "POST",
        f"/api/v1/workspaces/{workspace}/computed-traits",
        201,
        json={"key": "orders", "name": "Orders", "definition": ORDERS},
    )
    api.track(key, userId="u1", event="Order Completed")
    _wait_for(api, base, 1)
    api.track(key, userId="u1", event="Order Completed")
    changes = _wait_for(api, base, 2)
    assert sorted(c["change"] for c in changes) == ["entered", "updated"]
    days = api.ok("GET", f"{base}/changes/totals", params={"since": _iso(_at(changes[-1]))})
    assert sum(b["entered"] for b in days) == 1
    assert sum(b["updated"] for b in days) == 1
    assert sum(b["exited"] for b in days) == 0


def test_unknown_keys_and_bad_ranges_are_refused(api: Api) -> None:
    workspace = api.workspace()
    root = f"/api/v1/workspaces/{workspace}"
    api.error("GET", f"{root}/audiences/nope/changes/totals", 404, "audience_not_found")
    api.error("GET", f"{root}/computed-traits/nope/changes/totals", 404, "trait_not_found")
    api.ok(
        "POST",
        f"{root}/audiences",
        201,
        json={"key": "pro", "name": "Pro", "definition": PRO},
    )
    totals = f"{root}/audiences/pro/changes/totals"
    since, until = "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"
    api.error("GET", totals, 400, "invalid_range", params={"since": since, "until": until})
    api.error("GET", totals, 400, "invalid_range", params={"since": until, "until": until})
    # a year of hours is more buckets than one answer holds; a year of days is not
    year = {"since": "2025-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
    api.error("GET", totals, 400, "range_too_long", params={**year, "interval": "hour"})
    assert len(api.ok("GET", totals, params={**year, "interval": "day"})) == 365
    api.error("GET", totals, 422, "invalid_request", params={"interval": "week"})
    api.error("GET", totals, 422, "invalid_request", params={"since": "yesterday"})
