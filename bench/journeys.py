"""Journeys under load: ``python -m bench.journeys [--profiles 100000]``.

A fresh ``headwater serve`` (processor on, its journey runner and caller) on an embedded
PostgreSQL. One journey: on ``Signed Up``, a delay until the time in the trait ``remind_at``
(every profile's within the same minute, :data:`DUE_SPAN`, once all have entered), a wait for
``Order Completed`` with a timeout, a split on a trait, and a send to a webhook destination
that takes journey messages only (no source routes to it) and posts them to ``bench.sink``, a
receiver in its own process that answers 200. ``--profiles`` identify calls (half
``plan: pro``), then as many ``Signed Up``; half of the profiles send ``Order Completed`` while
they wait. Figures, from the server's own records (``journey_steps``, the log):

- timer lateness: when each delay's step was taken against its due time (p50, p99, max), the
  profiles' times spread evenly over one minute;
- wake latency: from the acknowledged ``Order Completed`` (its ``receivedAt``) to the wait's step
  (p50, p95, max), the orders paced at :data:`ORDER_RATE` a second as a site sends them;
- steps per second, sustained: the journey is paused once every order has woken its buyer and
  resumed once every other wait has timed out, so that the other half of the profiles (each
  with four steps to take: the wait's timeout, the split, the send, the exit) is due at once;
  the steps taken after the resume over the time from the resume to the last one (a backlog
  drained, the runner's own speed, not the rate at which timers come due);
- the baseline, measured in the same run: the processor alone, events per second through every
  stage for the same number of ``Signed Up`` events in a workspace with no journey; the ratio of
  steps per second to it.

Targets (issue 17): at least 5,000 steps/s; timers within 1 s of due (p99) with 100,000 due in
the same minute; a waiting instance woken within 1 s (p95) of the acknowledged event.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.delivery import sink
from bench.ingest import ADMIN_TOKEN, fresh_database, serve_on

BATCH = 500
DUE_SPAN = 60
"""Seconds over which the delays' times are spread."""
ORDER_RATE = 500
"""Orders a second while the profiles wait."""


def _journey(destination: int, wait_seconds: int) -> dict[str, Any]:
    pro = {"type": "trait", "trait": "plan", "operator": "equals", "value": "pro"}
    return {
        "version": 1,
        "trigger": {"type": "event", "event": "Signed Up"},
        "start": "delay",
        "nodes": {
            "delay": {
                "type": "delay",
                "config": {"until_trait": "remind_at"},
                "next": {"out": "wait"},
            },
            "wait": {
                "type": "wait_event",
                "config": {
                    "events": [{"port": "bought", "event": "Order Completed"}],
                    "timeout": {"seconds": wait_seconds},
                },
                "next": {"bought": "split", "timeout": "split"},
            },
            "split": {
                "type": "split",
                "config": {"branches": [{"port": "pro", "condition": pro}]},
                "next": {"pro": "send", "else": "done"},
            },
            "send": {
                "type": "send",
                "config": {"destination": destination, "event": "Journey Message"},
                "next": {"out": "done"},
            },
            "done": {"type": "exit"},
        },
    }


def _paced(client: httpx.Client, key: str, messages: list[dict[str, Any]], rate: int) -> None:
    """``messages`` at ``rate`` a second, in requests of a tenth of a second's worth, as a site
    sends them (a burst would measure the backlog, not the wake)."""
    size = max(1, rate // 10)
    started = time.monotonic()
    for n, start in enumerate(range(0, len(messages), size)):
        client.post(
            "/v1/batch", auth=(key, ""), json={"batch": messages[start : start + size]}
        ).raise_for_status()
        time.sleep(max(0.0, started + (n + 1) * 0.1 - time.monotonic()))


def _send(client: httpx.Client, key: str, messages: list[dict[str, Any]]) -> None:
    for start in range(0, len(messages), BATCH):
        response = client.post(
            "/v1/batch", auth=(key, ""), json={"batch": messages[start : start + BATCH]}
        )
        response.raise_for_status()


async def _scalar(url: str, query: str, *args: Any) -> Any:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return await connection.fetchval(query, *args)
    finally:
        await connection.close()


async def _rows(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


def _until(url: str, query: str, expected: int, seconds: float) -> float:
    """Seconds until ``query`` (a count) reaches ``expected``."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if asyncio.run(_scalar(url, query)) >= expected:
            return time.monotonic() - started
        time.sleep(0.5)
    raise SystemExit(f"not reached in {seconds:.0f} s: {query}")


def _drained(admin: httpx.Client, seconds: float = 900) -> None:
    """Until the processor has nothing waiting in the log."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if admin.get("/api/v1/processing/backlog").json()["partitions_behind"] == 0:
            return
        time.sleep(0.5)
    raise SystemExit("the processor did not catch up")


def _percentiles(values: list[float], *points: float) -> list[float]:
    ordered = sorted(values)
    return [ordered[min(len(ordered) - 1, int(p * len(ordered)))] for p in points]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    args = parser.parse_args()
    count = args.profiles
    with (
        sink() as receiver,
        fresh_database() as (url, data_dir),
        serve_on(url, data_dir, run_processor="true") as port,
    ):
        base = f"http://127.0.0.1:{port}"
        admin = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60
        )
        plain = httpx.Client(base_url=base, timeout=60)
        ws = "/api/v1/workspaces/default"
        source = admin.post(f"{ws}/sources", json={"name": "bench"}).json()
        key = source["write_key"]
        hook = admin.post(
            f"{ws}/destinations",
            json={
                "name": "hook",
                "kind": "webhook",
                "config": {"url": f"{receiver}/ok"},
                "sources": [],
            },
        ).json()
        # the baseline: the processor alone, the same events with no journey live
        admin.post("/api/v1/workspaces", json={"slug": "baseline"}).raise_for_status()
        other = admin.post("/api/v1/workspaces/baseline/sources", json={"name": "baseline"}).json()
        started = time.monotonic()
        _send(
            plain,
            other["write_key"],
            [{"type": "track", "userId": f"b{i}", "event": "Signed Up"} for i in range(count)],
        )
        _drained(admin)
        baseline = count / (time.monotonic() - started)

        # The delays end after everyone entered (the identify calls and the sign-ups take about
        # twice the baseline's time), all within one minute.
        first_due = datetime.now(UTC) + timedelta(seconds=3 * count / baseline + 30)
        due = [first_due + timedelta(seconds=DUE_SPAN * i / count) for i in range(count)]
        identities = [
            {
                "type": "identify",
                "userId": f"u{i}",
                "traits": {"plan": "pro" if i % 2 else "free", "remind_at": due[i].isoformat()},
            }
            for i in range(count)
        ]
        _send(plain, key, identities)
        # every order must reach its buyer while the buyer still waits
        wait_seconds = DUE_SPAN + 60 + count // 2 // ORDER_RATE
        document = _journey(hook["id"], wait_seconds)
        admin.post(f"{ws}/journeys", json={"key": "j", "name": "J", "document": document})
        admin.post(f"{ws}/journeys/j/publish").raise_for_status()
        time.sleep(3)  # the stage reads live journeys every 2 s
        signups = [{"type": "track", "userId": f"u{i}", "event": "Signed Up"} for i in range(count)]
        _send(plain, key, signups)
        _until(url, "SELECT count(*) FROM journey_instances", count, 900)
        entered_by = asyncio.run(_scalar(url, "SELECT max(entered_at) FROM journey_instances"))
        past_delay = "SELECT count(*) FROM journey_instances WHERE step >= 1"
        _until(url, past_delay, count, (due[-1] - datetime.now(UTC)).total_seconds() + 900)

        orders = [
            {"type": "track", "userId": f"u{i}", "event": "Order Completed"}
            for i in range(0, count, 2)
        ]
        _paced(plain, key, orders, ORDER_RATE)
        bought = "SELECT count(*) FROM journey_steps WHERE node_id = 'wait' AND port = 'bought'"
        _until(url, bought, len(orders), 900)
        admin.post(f"{ws}/journeys/j/pause").raise_for_status()
        last_due = asyncio.run(
            _scalar(
                url, "SELECT max(wake_at) - now() FROM journey_instances WHERE node_id = 'wait'"
            )
        )
        time.sleep(max(0.0, last_due / timedelta(seconds=1)) + 1)
        resumed = asyncio.run(_scalar(url, "SELECT now()"))
        admin.post(f"{ws}/journeys/j/resume").raise_for_status()
        ended = "SELECT count(*) FROM journey_instances WHERE state IN ('completed','failed')"
        _until(url, ended, count, 900)

        drained = asyncio.run(
            _rows(
                url,
                "SELECT count(*), max(finished_at) FROM journey_steps WHERE finished_at >= $1",
                resumed,
            )
        )[0]
        delays = asyncio.run(
            _rows(
                url,
                "SELECT substr(d.value, 2)::int, s.finished_at FROM journey_steps s"
                " JOIN journey_instances i ON i.id = s.instance_id"
                " JOIN identifiers d ON d.profile_id = i.profile_id AND d.type = 'user_id'"
                " WHERE s.node_id = 'delay'",
            )
        )
        woken = asyncio.run(
            _rows(
                url,
                "SELECT extract(epoch FROM s.finished_at - e.received_at) FROM journey_steps s"
                " JOIN events e ON e.message_id = substr(s.detail, 7)"
                " WHERE s.node_id = 'wait' AND s.port = 'bought'",
            )
        )
    rate = drained[0] / ((drained[1] - resumed) / timedelta(seconds=1))
    late = [(finished - due[n]).total_seconds() for n, finished in delays]
    lateness = _percentiles(late, 0.5, 0.99, 1.0)
    early = sum(1 for d in due if d < entered_by)
    wake = _percentiles([r[0] for r in woken], 0.5, 0.95, 1.0) if woken else [0.0] * 3
    print(f"journeys: {count:,} profiles")
    print(
        f"  steps per second, sustained {rate:9,.0f}   x{rate / baseline:.2f} of the processor"
        f"   ({drained[0]:,} steps due at once)"
    )
    print(f"  processor alone (baseline)  {baseline:9,.0f}   events/s through every stage")
    print(
        "  timer lateness, s           p50 {:.3f}  p99 {:.3f}  max {:.3f}".format(*lateness)
        + f"   ({len(late):,} due within {DUE_SPAN} s, {early:,} of them before all entered)"
    )
    print(
        "  wake after the event, s     p50 {:.3f}  p95 {:.3f}  max {:.3f}".format(*wake)
        + f"   ({len(woken):,} orders, {ORDER_RATE} a second)"
    )


if __name__ == "__main__":
    main()
