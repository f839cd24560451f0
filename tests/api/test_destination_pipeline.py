"""A destination's pipeline over a time range: the stats answer's totals count each stage
(received, skipped by consent or filters, queued, delivered, failed, dead-lettered)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.conftest import Api, unique
from tests.destinations.sink import Recorded, Reply, Sink


def _refuse_some(request: Recorded) -> Reply:
    return Reply(400, {"error": "no"}) if request.json()["event"] == "Refused" else Reply()


def _settled(api: Api, path: str, **params: str) -> dict[str, Any]:
    """The totals once every queued event was delivered or dead-lettered."""
    deadline = time.monotonic() + 30
    while True:
        totals: dict[str, Any] = api.ok("GET", path, params=params)["totals"]
        done = totals["delivered"] + totals["dead_lettered"]
        if (totals["received"] == 5 and done == totals["enqueued"]) or time.monotonic() > deadline:
            return totals
        time.sleep(0.2)


def test_totals_count_each_stage_of_the_range(api: Api) -> None:
    workspace = api.workspace()
    source = api.source(workspace=workspace)
    with Sink(_refuse_some) as sink:
        created = api.ok(
            "POST",
            f"/api/v1/workspaces/{workspace}/destinations",
            201,
            json={
                "name": unique("hook"),
                "kind": "webhook",
                "config": {"url": sink.url},
                "categories": ["Analytics"],
                "filters": [
                    {"type": "drop", "when": {"field": "event", "op": "eq", "value": "Noise"}}
                ],
            },
        )
        refused = {"consent": {"categoryPreferences": {"Analytics": False}}}
        for event, context in [
            ("Ordered", {}),
            ("Ordered", {}),
            ("Noise", {}),
            ("Ordered", refused),
            ("Refused", {}),
        ]:
            api.track(source["write_key"], userId="u1", event=event, context=context)
        path = f"/api/v1/workspaces/{workspace}/destinations/{created['id']}/stats"
        totals = _settled(api, path)
        assert len(sink.requests) >= 3

    assert totals == {
        "received": 5,
        "skipped_integrations": 0,
        "skipped_consent": 1,
        "skipped_filters": 1,
        "enqueued": 3,
        "delivered": 2,
        "retried": 0,
        "failed": 1,
        "dead_lettered": 1,
    }
    earlier = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    before = api.ok("GET", path, params={"until": earlier})
    assert before["until"].startswith(earlier[:16])
    assert set(before["totals"].values()) == {0}
