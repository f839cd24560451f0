"""Privacy under load (issue 18): deletions while collection and processing go on, what
suppression costs collection, and retention's drop of a day.

    .venv/bin/python -m bench.privacy                      # 1,000,000 events, 200,000 profiles
    .venv/bin/python -m bench.privacy --events 100000 --profiles 20000 --deletions 100

``headwater serve`` as the default command runs it (one process per core, the processor and
delivery on), on embedded PostgreSQL in a fresh data directory (``bench.ingest.headwater``):

1. **Deletion.** ``--profiles`` people (``p-0`` ...) are identified and sent ``--events`` events
   in all through ``/v1/batch`` (500 a request), and the bench waits until the processor has
   processed every one (so the profiles exist). A paced load of other people's events
   (``--rate`` events/s through ``/v1/batch``, 100 a request, latency counted from each
   request's scheduled start) runs from then on: ``--window`` seconds are measured before the
   deletions, then ``--deletions`` people spread over the store are submitted through Segment's
   regulations API (``POST /v1/regulations``, ``--type``, 5,000 ids a call at most) and timed
   until every regulation is ``FINISHED``. Collection (events/s acknowledged, p99 latency) and
   processing (events/s processed, the oldest waiting event's age) are printed for the window
   before and for the deletions, with their ratio. Afterwards a count of the deleted people's
   events and identifiers in the store (the same query is run before: it finds them) checks
   that they are gone. Target: under 60 s for 1,000 people in 1,000,000 events.
2. **Suppression.** A second workspace gets ``--suppressed`` ids suppressed (``SUPPRESS_ONLY``);
   the same closed-loop ``/v1/batch`` load as ``bench.pii`` (100 events a request, 16
   connections, ``--seconds``; 5,000 users, each id seen again and again, as a site's visitors
   are) of people who are not suppressed is sent to the workspace without suppressions and to
   the one with them, ``--rounds`` times alternately. Each run's CPU an event (the server's
   processes and PostgreSQL's, over the run) is less disturbed by a busy machine than its
   events/s: the target is on the median ratio of CPU an event, without / with >= 0.95
   (suppression costs collection under 5%); the events/s ratio is printed beside it.
3. **Retention.** ``bench.retention``'s measure (its own fresh PostgreSQL): a day of
   ``--events`` events dropped, against deleting it by time. Target: under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import itertools
import json
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.ingest import ADMIN_TOKEN, WRITE_KEY, cpu_seconds, headwater
from bench.load import run_phase
from bench.retention import TARGET_SECONDS as RETENTION_TARGET
from bench.retention import measure_retention
from headwater.pipeline import CONSUMER

__all__ = ["main"]

TARGET_SECONDS = 60.0
SUPPRESSION_TARGET = 0.95
SEED_BATCH = 500
MAX_SUBJECTS = 5_000
"""Ids a regulation call may carry (Segment's limit)."""
PENDING = ("INITIALIZED", "RUNNING")

_BACKLOG = """
SELECT count(*) FROM events e
LEFT JOIN log_offsets o ON o.consumer = $1 AND o.partition = e.partition
WHERE e.seq > coalesce(o.committed, 0)
"""


async def _fetch(data_dir: str, query: str, *args: Any) -> Any:
    connection = await asyncpg.connect(
        host=str(Path(data_dir) / "postgres"), user="postgres", database="headwater"
    )
    try:
        return await connection.fetchval(query, *args)
    finally:
        await connection.close()


def _scalar(data_dir: str, query: str, *args: Any) -> Any:
    return asyncio.run(_fetch(data_dir, query, *args))


def _backlog(data_dir: str) -> int:
    return int(_scalar(data_dir, _BACKLOG, CONSUMER))


def _drained(data_dir: str, seconds: float = 3600) -> None:
    started = time.monotonic()
    while _backlog(data_dir):
        if time.monotonic() - started > seconds:
            raise SystemExit("the processor did not catch up")
        time.sleep(1)


def _messages(events: int, profiles: int) -> Iterator[dict[str, Any]]:
    """An identify for each person, then tracks shared out among them."""
    for i in range(profiles):
        yield {
            "type": "identify",
            "userId": f"p-{i}",
            "anonymousId": f"a-{i}",
            "traits": {"email": f"p{i}@example.com", "plan": "pro" if i % 2 else "free"},
        }
    for j in range(max(0, events - profiles)):
        yield {
            "type": "track",
            "userId": f"p-{j % profiles}",
            "event": "Order Completed",
            "properties": {"order_id": f"o-{j}", "total": j % 500, "currency": "EUR"},
        }


def _chunks(events: int, profiles: int) -> Iterator[bytes]:
    batch: list[dict[str, Any]] = []
    for message in _messages(events, profiles):
        batch.append(message)
        if len(batch) == SEED_BATCH:
            yield json.dumps({"batch": batch}).encode()
            batch = []
    if batch:
        yield json.dumps({"batch": batch}).encode()


def _seed(base: str, events: int, profiles: int) -> float:
    """Send the store's events through ``/v1/batch`` (4 requests in flight); seconds taken."""
    started = time.monotonic()
    with (
        httpx.Client(base_url=base, auth=(WRITE_KEY, ""), timeout=120) as client,
        concurrent.futures.ThreadPoolExecutor(4) as pool,
    ):

        def send(body: bytes) -> None:
            headers = {"Content-Type": "application/json"}
            client.post("/v1/batch", content=body, headers=headers).raise_for_status()

        pending: set[concurrent.futures.Future[None]] = set()
        for body in _chunks(events, profiles):
            pending.add(pool.submit(send, body))
            if len(pending) >= 16:
                done, pending = concurrent.futures.wait(
                    pending, return_when=concurrent.futures.FIRST_COMPLETED
                )
                for future in done:
                    future.result()
        for future in pending:
            future.result()
    return time.monotonic() - started


@dataclass
class PacedLoad:
    """Other people's events through ``/v1/batch`` at ``rate`` events/s (``size`` a request),
    until stopped: request ``n`` is due ``n * size / rate`` seconds after the start and is sent
    by the first of ``connections`` threads free then (a slow answer does not hold the next
    ones back). Each request's due time, its latency counted from it (a server that falls
    behind is not hidden) and the events acknowledged are kept, for any window."""

    base: str
    rate: float
    size: int = 100
    connections: int = 8
    sent: list[tuple[float, float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _next: Iterator[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> PacedLoad:
        started = time.monotonic()
        self._threads = [
            threading.Thread(target=self._run, args=(started,), daemon=True)
            for _ in range(self.connections)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _body(self, n: int) -> bytes:
        batch = [
            {
                "type": "track",
                "userId": f"other-{(n * self.size + i) % 20_000}",
                "event": "Product Viewed",
                "properties": {"product_id": "p-42", "price": 19.99},
            }
            for i in range(self.size)
        ]
        return json.dumps({"batch": batch}).encode()

    def _run(self, started: float) -> None:
        interval = self.size / self.rate
        headers = {"Content-Type": "application/json"}
        with httpx.Client(base_url=self.base, auth=(WRITE_KEY, ""), timeout=120) as client:
            while True:
                with self._lock:
                    n = next(self._next)
                due = started + n * interval
                if self._stop.wait(max(0.0, due - time.monotonic())):
                    return
                response = client.post("/v1/batch", content=self._body(n), headers=headers)
                ok = self.size if response.status_code == 200 else 0
                self.sent.append((due, time.monotonic() - due, ok))

    def window(self, start: float, end: float) -> dict[str, float]:
        """Events/s acknowledged, p99 latency (ms) and errors of requests scheduled in
        [start, end)."""
        inside = [s for s in list(self.sent) if start <= s[0] < end]
        latencies = sorted(s[1] for s in inside)
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if inside else 0.0
        return {
            "events_per_s": sum(s[2] for s in inside) / (end - start),
            "p99_ms": p99 * 1000,
            "errors": float(sum(1 for s in inside if not s[2])),
        }


class Lag:
    """The oldest waiting event's age (``GET /api/v1/processing/backlog``), sampled each
    second from a thread; the largest seen."""

    def __init__(self, admin: httpx.Client) -> None:
        self._admin = admin
        self._stop = threading.Event()
        self.worst = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            backlog = self._admin.get("/api/v1/processing/backlog").json()
            self.worst = max(self.worst, float(backlog.get("lag_seconds") or 0.0))

    def __enter__(self) -> Lag:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _phase(
    load: PacedLoad, admin: httpx.Client, data_dir: str, work: Any
) -> tuple[dict[str, float], Any]:
    """Run ``work()`` under the load; collection and processing figures over its time."""
    backlog_before = _backlog(data_dir)
    with Lag(admin) as lag:
        start = time.monotonic()
        outcome = work()
        end = time.monotonic()
    backlog_after = _backlog(data_dir)
    figures = load.window(start, end)
    acked = figures["events_per_s"] * (end - start)
    figures["processed_per_s"] = (acked + backlog_before - backlog_after) / (end - start)
    figures["lag_s"] = lag.worst
    figures["seconds"] = end - start
    return figures, outcome


def _regulate(public: httpx.Client, kind: str, ids: list[str]) -> list[str]:
    created = []
    for start in range(0, len(ids), MAX_SUBJECTS):
        response = public.post(
            "/v1/regulations",
            json={
                "regulationType": kind,
                "subjectType": "USER_ID",
                "subjectIds": ids[start : start + MAX_SUBJECTS],
            },
        )
        response.raise_for_status()
        created.append(response.json()["data"]["regulateId"])
    return created


def _finished(public: httpx.Client, regulations: list[str], seconds: float = 3600) -> list[str]:
    """Wait until no regulation is pending; their statuses."""
    started = time.monotonic()
    statuses: dict[str, str] = {}
    while time.monotonic() - started < seconds:
        for regulate_id in regulations:
            if statuses.get(regulate_id) in (None, *PENDING):
                body = public.get(f"/v1/regulations/{regulate_id}").json()
                statuses[regulate_id] = body["data"]["regulation"]["overallStatus"]
        if all(status not in PENDING for status in statuses.values()):
            return list(statuses.values())
        time.sleep(0.25)
    raise SystemExit(f"regulations still pending after {seconds:.0f} s: {statuses}")


_LEFT_EVENTS = "SELECT count(*) FROM events WHERE workspace_id = 1 AND user_id = ANY($1)"
_LEFT_IDENTIFIERS = (
    "SELECT count(*) FROM identifiers WHERE workspace_id = 1 AND type = 'user_id'"
    " AND value = ANY($1)"
)


_SPREAD = """
SELECT extract(epoch FROM min(t.finished_at) - min(r.created_at)),
       extract(epoch FROM max(t.finished_at) - min(r.created_at))
FROM regulation_targets t JOIN regulations r ON r.id = t.regulation_id
WHERE r.workspace_id = 1
"""


async def _spread_of(data_dir: str) -> tuple[float, float]:
    connection = await asyncpg.connect(
        host=str(Path(data_dir) / "postgres"), user="postgres", database="headwater"
    )
    try:
        row = await connection.fetchrow(_SPREAD)
        assert row is not None
        return float(row[0]), float(row[1])
    finally:
        await connection.close()


def _spread(data_dir: str) -> tuple[float, float]:
    """Seconds from the first regulation's creation to the first and to the last subject
    that ended: where the time went (waiting before the first, erasing after it)."""
    return asyncio.run(_spread_of(data_dir))


def _deletion(port: int, data_dir: str, args: argparse.Namespace) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    admin = httpx.Client(base_url=base, headers=headers, timeout=60)
    public = httpx.Client(
        base_url=base, headers={**headers, "X-Headwater-Workspace": "default"}, timeout=60
    )
    figures: dict[str, Any] = {"seed_s": _seed(base, args.events, args.profiles)}
    started = time.monotonic()
    _drained(data_dir)
    figures["processed_after_s"] = time.monotonic() - started
    figures["stored_events"] = _scalar(data_dir, "SELECT count(*) FROM events")
    figures["profiles"] = _scalar(
        data_dir, "SELECT count(*) FROM profiles WHERE merged_into IS NULL"
    )
    step = max(1, args.profiles // args.deletions)
    doomed = [f"p-{i * step}" for i in range(args.deletions)]
    figures["their_events"] = _scalar(data_dir, _LEFT_EVENTS, doomed)
    figures["their_identifiers"] = _scalar(data_dir, _LEFT_IDENTIFIERS, doomed)
    with PacedLoad(base, args.rate) as load:
        time.sleep(3)  # the load settles
        figures["before"], _ = _phase(load, admin, data_dir, lambda: time.sleep(args.window))

        def delete() -> list[str]:
            return _finished(public, _regulate(public, args.type, doomed))

        figures["during"], figures["statuses"] = _phase(load, admin, data_dir, delete)
    figures["spread"] = _spread(data_dir)
    figures["left_events"] = _scalar(data_dir, _LEFT_EVENTS, doomed)
    figures["left_identifiers"] = _scalar(data_dir, _LEFT_IDENTIFIERS, doomed)
    figures["profiles_after"] = _scalar(
        data_dir, "SELECT count(*) FROM profiles WHERE merged_into IS NULL"
    )
    admin.close()
    public.close()
    return figures


def _suppression(port: int, data_dir: str, args: argparse.Namespace) -> dict[str, float]:
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as admin:
        admin.post("/api/v1/workspaces", json={"slug": "suppressing"}).raise_for_status()
        key = f"{WRITE_KEY}-suppressing"
        admin.post(
            "/api/v1/workspaces/suppressing/sources", json={"name": "bench", "write_key": key}
        ).raise_for_status()
        public = httpx.Client(
            base_url=base,
            headers={**headers, "X-Headwater-Workspace": "suppressing"},
            timeout=60,
        )
        ids = [f"suppressed-{i}" for i in range(args.suppressed)]
        started = time.monotonic()
        statuses = _finished(public, _regulate(public, "SUPPRESS_ONLY", ids))
        took = time.monotonic() - started
        public.close()
        count = admin.get(
            "/v1/suppressions",
            params={"pagination.count": 1},
            headers={"X-Headwater-Workspace": "suppressing"},
        ).json()
    runs: dict[str, list[tuple[float, float]]] = {"without": [], "with": []}
    for _ in range(args.rounds):
        for name, write_key in (("without", WRITE_KEY), ("with", key)):
            spec = {
                "kind": "batch",
                "batch_size": 100,
                "connections": 16,
                "seconds": args.seconds,
                "host": "127.0.0.1",
                "port": port,
                "write_key": write_key,
                "run": uuid.uuid4().hex[:8],
            }
            before = sum(cpu_seconds(port, data_dir))
            with concurrent.futures.ProcessPoolExecutor(1) as pool:
                rate = pool.submit(run_phase, spec).result()["events_per_s"]
            cpu = (sum(cpu_seconds(port, data_dir)) - before) / (rate * args.seconds) * 1e6
            print(
                f"  suppression: {name} {rate:,.0f} events/s, {cpu:.0f} µs of CPU an event",
                flush=True,
            )
            runs[name].append((rate, cpu))
    total = count.get("data", {}).get("pagination", {}).get("totalEntries")
    rounds = list(zip(runs["without"], runs["with"], strict=True))
    return {
        "without": max(rate for rate, _ in runs["without"]),
        "with": max(rate for rate, _ in runs["with"]),
        "rate_ratio": statistics.median(w[0] / wo[0] for wo, w in rounds),
        "cpu_ratio": statistics.median(wo[1] / w[1] for wo, w in rounds),
        "setup_s": took,
        "finished": float(all(s == "FINISHED" for s in statuses)),
        "listed": float(total) if total is not None else float("nan"),
    }


def _print_deletion(d: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"store: {d['stored_events']:,} events, {d['profiles']:,} profiles; seeded through"
        f" /v1/batch in {d['seed_s']:.0f} s, processed {d['processed_after_s']:.0f} s later"
    )
    before, during = d["before"], d["during"]
    print(
        f"deletion of {args.deletions:,} people ({args.type}, {len(d['statuses'])} call(s)):"
        f" {during['seconds']:.1f} s until every regulation ended;"
        f" statuses {sorted(set(d['statuses']))}"
    )
    first, last = d["spread"]
    print(
        f"  the first subject ended {first:.1f} s after the first call, the last {last:.1f} s:"
        f" {(args.deletions - 1) / max(last - first, 1e-9):,.1f} subjects/s in between"
    )
    print(f"{'under a load of':<34}{'before':>12}{'during':>12}{'ratio':>8}")
    rows = [
        ("collected, events/s", "events_per_s", "{:,.0f}"),
        ("processed, events/s", "processed_per_s", "{:,.0f}"),
        ("collection p99, ms", "p99_ms", "{:,.0f}"),
        ("processing lag, worst, s", "lag_s", "{:,.1f}"),
        ("errors", "errors", "{:,.0f}"),
    ]
    for label, name, form in rows:
        ratio = f"{during[name] / before[name]:.2f}" if before[name] else "-"
        print(
            f"{label:<34}{form.format(before[name]):>12}{form.format(during[name]):>12}{ratio:>8}"
        )
    print(
        f"their events / user-id identifiers in the store: {d['their_events']:,} /"
        f" {d['their_identifiers']:,} before, {d['left_events']:,} / {d['left_identifiers']:,}"
        f" after; live profiles {d['profiles']:,} before, {d['profiles_after']:,} after"
        " (the load's people included)"
    )
    gone = d["left_events"] == 0 and d["left_identifiers"] == 0 and d["their_events"] > 0
    met = gone and during["seconds"] < TARGET_SECONDS and set(d["statuses"]) == {"FINISHED"}
    print(
        f"target: {args.deletions:,} people deleted from {args.events:,} events /"
        f" {args.profiles:,} profiles in < {TARGET_SECONDS:.0f} s: {'met' if met else 'MISSED'}"
    )


def _print_suppression(s: dict[str, float], args: argparse.Namespace) -> None:
    print(
        f"suppression: {args.suppressed:,} ids suppressed in {s['setup_s']:.1f} s"
        f" (finished: {bool(s['finished'])}, listed: {s['listed']:,.0f});"
        f" /v1/batch x100, 16 connections, {args.rounds} round(s): best without"
        f" {s['without']:,.0f} events/s, with {s['with']:,.0f} events/s; median ratio"
        f" events/s {s['rate_ratio']:.3f}, CPU an event (without / with) {s['cpu_ratio']:.3f}"
    )
    met = s["cpu_ratio"] >= SUPPRESSION_TARGET
    print(
        "target: suppression costs collection < 5% (CPU an event, ratio >= 0.95):"
        f" {'met' if met else 'MISSED'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--profiles", type=int, default=200_000)
    parser.add_argument("--deletions", type=int, default=1_000)
    parser.add_argument(
        "--type", default="SUPPRESS_WITH_DELETE", choices=["SUPPRESS_WITH_DELETE", "DELETE_ONLY"]
    )
    parser.add_argument("--rate", type=float, default=2_000, help="the paced load, events/s")
    parser.add_argument("--window", type=float, default=20, help="seconds measured before")
    parser.add_argument("--suppressed", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10, help="each suppression run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-retention", action="store_true")
    args = parser.parse_args()
    if args.profiles < args.deletions or args.events < args.profiles:
        raise SystemExit("need --events >= --profiles >= --deletions")

    with headwater({}) as (port, data_dir):
        deletion = _deletion(port, data_dir, args)
        _print_deletion(deletion, args)
        suppression = _suppression(port, data_dir, args)
        _print_suppression(suppression, args)
    if not args.skip_retention:
        r = measure_retention(args.events)
        print(
            f"retention: a day of {r['dropped_rows']:,.0f} events dropped in"
            f" {r['drop_s'] * 1000:.0f} ms; baseline DELETE by time {r['delete_s'] * 1000:.0f} ms,"
            f" ratio {r['drop_s'] / r['delete_s']:.4f}"
        )
        met = r["drop_s"] < RETENTION_TARGET and r["dropped_rows"] >= args.events
        verdict = "met" if met else "MISSED"
        print(f"target: a day of {args.events:,} events dropped in < 1 s: {verdict}")


if __name__ == "__main__":
    main()
