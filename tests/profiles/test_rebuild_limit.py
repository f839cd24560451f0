"""Late events are rebuilt once per batch, and a component too large to rebuild (one
identifier shared by many people) is applied in arrival order, counted, instead of stalling
processing by reading every event again for each late event."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from headwater.profiles.stage import IdentityMetrics, ProfileStage
from headwater.profiles.stage.rebuild import LOCK_LIMIT
from headwater.telemetry.metrics import Metrics
from tests.profiles.test_order import expected_profiles, run_stage

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class CountingStage(ProfileStage):
    """The real stage, counting its rebuilds."""

    def __init__(self, metrics: Metrics, rebuild_limit: int) -> None:
        super().__init__(metrics, rebuild_limit=rebuild_limit)
        self.replays = 0

    async def _replay(self, *args: Any, **kwargs: Any) -> Any:
        self.replays += 1
        return await super()._replay(*args, **kwargs)


def _kiosk(count: int) -> list[dict[str, Any]]:
    """``count`` people identifying, one after another, on one device (one anonymousId)."""
    return [
        {
            "messageId": f"m{i:05d}",
            "type": "identify",
            "userId": f"u{i}",
            "anonymousId": "kiosk",
            "traits": {"n": i},
            "timestamp": (T0 + timedelta(seconds=i)).isoformat(),
            "receivedAt": T0.isoformat(),
        }
        for i in range(count)
    ]


def _newest_first(count: int, size: int) -> list[list[int]]:
    order = list(range(count))[::-1]
    return [order[i : i + size] for i in range(0, count, size)]


def _rebuilds(metrics: Metrics, outcome: str) -> float:
    metrics.of(IdentityMetrics)
    return metrics.sample("headwater_identity_rebuilds_total", {"outcome": outcome}) or 0.0


def test_a_batch_of_late_events_is_rebuilt_once_in_canonical_order(database_url: str) -> None:
    payloads = _kiosk(60)
    batches = _newest_first(60, 20)
    metrics = Metrics()
    stage = CountingStage(metrics, rebuild_limit=10_000)
    stored, links = asyncio.run(run_stage(database_url, 910, payloads, batches, stage))
    expected, expected_links = expected_profiles(910, payloads)
    assert stored == expected
    assert links == expected_links
    # Every event of the second and third batches is late; one rebuild each.
    assert stage.replays == 2
    assert _rebuilds(metrics, "rebuilt") == 2
    assert _rebuilds(metrics, "too_large") == 0


def _one_profile_per_user(stored: dict[frozenset[Any], Any], count: int) -> None:
    owners: dict[str, int] = {}
    for identifiers in stored:
        for identifier in identifiers:
            if identifier.type == "user_id":
                owners[identifier.value] = owners.get(identifier.value, 0) + 1
    assert owners == {f"u{i}": 1 for i in range(count)}


def test_a_component_past_the_limit_is_applied_in_arrival_order_and_counted(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    payloads = _kiosk(120)
    metrics = Metrics()
    stage = CountingStage(metrics, rebuild_limit=50)
    with caplog.at_level(logging.WARNING, logger="headwater.profiles.stage.orchestration"):
        stored, links = asyncio.run(
            run_stage(database_url, 911, payloads, _newest_first(120, 20), stage)
        )
    assert set(links) == {p["messageId"] for p in payloads}  # every event has its profile
    _one_profile_per_user(stored, 120)
    # The first batches' components stay under 50 events and are rebuilt; the later not.
    assert _rebuilds(metrics, "rebuilt") >= 1
    assert _rebuilds(metrics, "too_large") >= 1
    assert _rebuilds(metrics, "rebuilt") + _rebuilds(metrics, "too_large") == 5
    assert any("workspace 911" in record.getMessage() for record in caplog.records)


def test_a_component_with_more_identifiers_than_the_lock_limit_is_not_rebuilt(
    database_url: str,
) -> None:
    count = LOCK_LIMIT + 200
    payloads = _kiosk(count)
    metrics = Metrics()
    stage = CountingStage(metrics, rebuild_limit=1_000_000)
    stored, links = asyncio.run(
        run_stage(database_url, 912, payloads, _newest_first(count, 1_100), stage)
    )
    assert len(links) == count
    _one_profile_per_user(stored, count)
    assert _rebuilds(metrics, "too_large") == 1
