"""Ingest benchmark: Headwater's tracking API, as installed and as tuned, against a bare endpoint
on the same stack.

    .venv/bin/python -m bench.ingest [--seconds 10] [--workers N] [--load-processes 1]
                                     [--targets default,tuned] [--set NAME=VALUE ...]

Measures, one after the other, on fresh embedded PostgreSQL in temporary data directories:

- ``default``: ``headwater serve`` exactly as ``./scripts/serve`` runs it, nothing set but its
  data directory and an admin token (to add the bench's source): the default process count
  for this machine, the processor and delivery on, logs at ``info``. Afterwards it waits for
  the processor to catch up and prints the events/s collected and processed, end to end.
  ``--set NAME=VALUE`` changes one of its settings (``HEADWATER_`` names without the prefix)
  for experiments;
- ``tuned``: ``headwater serve --workers N`` (default: one process per core) with the
  processor off: collection alone, as earlier runs measured it;
- the baselines: ``bench.bare`` (uvicorn + httptools + uvloop answering without work) with as
  many processes as each target, ``bare xN``;

and loads each from separate processes on this machine with:

- ``/v1/batch``, 100 events a request (unique messageIds), closed loop, 16 connections;
- ``/v1/track``, single events, closed loop, 64 and 128 connections;
- ``/v1/track`` at a fixed 1,000 requests/s (open loop) for the latency at that rate.

Prints events/s, requests/s, p50/p99 ack latency, and each target's ratio to the bare endpoint.
Targets on a 2-core machine, load generator included: >= 20,000 events/s through /v1/batch;
>= 5,000 requests/s of /v1/track; p99 < 50 ms at 1,000 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path

import asyncpg
import httpx
import psutil

from bench.load import run_phase
from headwater.access import bootstrap_owner
from headwater.pipeline import CONSUMER
from headwater.settings import default_workers
from headwater.storage import create_engine, migrate
from headwater.storage.embedded import EmbeddedPostgres
from headwater.workspaces import bootstrap

ADMIN_TOKEN = "bench-admin-token"
WRITE_KEY = "bench-write-key-0001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def fresh_database() -> Iterator[tuple[str, str]]:
    """A migrated, bootstrapped embedded PostgreSQL in a temporary data directory:
    (its URL, the directory); stopped and removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="headwater-bench-") as data_dir:
        embedded = EmbeddedPostgres(Path(data_dir))

        async def prepare() -> str:
            url = await embedded.start()
            engine = create_engine(url, pool_size=2)
            await migrate(engine)
            await bootstrap(engine)
            await bootstrap_owner(engine, admin_token=ADMIN_TOKEN, email=None, password=None)
            await engine.dispose()
            return url

        url = asyncio.run(prepare())
        try:
            yield url, data_dir
        finally:
            asyncio.run(embedded.stop())


@contextmanager
def serve_on(url: str, data_dir: str, **settings: str) -> Iterator[int]:
    """``headwater serve`` on the database at ``url`` (one process, processor off unless
    ``settings`` say otherwise; ``settings`` are ``HEADWATER_`` names without the prefix),
    ready; its port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env |= {
        "HEADWATER_DATABASE_URL": url,
        "HEADWATER_DATA_DIR": data_dir,
        "HEADWATER_ADMIN_TOKEN": ADMIN_TOKEN,
        "HEADWATER_RUN_PROCESSOR": "false",
        "HEADWATER_LOG_LEVEL": "warning",
        "HEADWATER_WORKERS": "1",  # the benches that use it measure one process
    }
    env |= {f"HEADWATER_{name.upper()}": value for name, value in settings.items()}
    server = subprocess.Popen(
        [sys.executable, "-m", "headwater", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/ready", server)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def cpu_seconds(port: int, data_dir: str) -> tuple[float, float]:
    """CPU seconds used so far by the server on ``port`` (its processes) and by the
    PostgreSQL serving ``data_dir`` (postmaster, backends, autovacuum workers). A process
    that has ended is counted in its parent's ``children_*`` times, so the sum only grows
    (an autovacuum worker that ends between two readings is not lost)."""
    server = postgres = 0.0
    for process in psutil.process_iter(["cmdline"]):
        line = " ".join(process.info["cmdline"] or ())
        ours = "headwater" in line and f"--port {port}" in line
        if data_dir in line or ours:
            for member in (process, *process.children(recursive=True)):
                with suppress(psutil.NoSuchProcess):
                    times = member.cpu_times()
                    used = times.user + times.system + times.children_user + times.children_system
                    if ours:
                        server += used
                    else:
                        postgres += used
    return server, postgres


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not become ready")


@contextmanager
def headwater(settings: dict[str, str], *, exit_seconds: float = 60) -> Iterator[tuple[int, str]]:
    """``headwater serve`` as a user runs it: embedded PostgreSQL in a fresh data directory,
    and nothing else set but ``settings`` (``HEADWATER_`` names without the prefix). On the
    way out it waits ``exit_seconds`` for the server to exit, and past them kills it and
    raises ``subprocess.TimeoutExpired``."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="headwater-bench-") as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
        env |= {"HEADWATER_DATA_DIR": data_dir, "HEADWATER_ADMIN_TOKEN": ADMIN_TOKEN}
        env |= {f"HEADWATER_{name.upper()}": value for name, value in settings.items()}
        log = Path(data_dir) / "server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "headwater", "serve", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_ready(f"http://127.0.0.1:{port}/ready", process)
            httpx.post(
                f"http://127.0.0.1:{port}/api/v1/workspaces/default/sources",
                json={"name": "bench", "write_key": WRITE_KEY},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            ).raise_for_status()
            yield port, data_dir
        finally:
            process.terminate()
            try:
                process.wait(timeout=exit_seconds)
            except subprocess.TimeoutExpired:
                process.kill()  # not left running beside what the bench starts next
                process.wait()
                raise


_BACKLOG = """
SELECT count(*) FROM events e
LEFT JOIN log_offsets o ON o.consumer = $1 AND o.partition = e.partition
WHERE e.seq > coalesce(o.committed, 0)
"""


async def _drain(data_dir: str, limit_seconds: float) -> tuple[int, float, int]:
    """The processor's backlog now (entries after its offsets), the seconds until it is gone
    (waiting ``limit_seconds`` at most), and what is left then (0: caught up)."""
    connection = await asyncpg.connect(
        host=str(Path(data_dir) / "postgres"), user="postgres", database="headwater"
    )
    try:
        started = time.monotonic()
        backlog = first = await connection.fetchval(_BACKLOG, CONSUMER)
        while backlog and time.monotonic() - started < limit_seconds:
            await asyncio.sleep(0.5)
            backlog = await connection.fetchval(_BACKLOG, CONSUMER)
        return first, time.monotonic() - started, backlog
    finally:
        await connection.close()


@contextmanager
def bare(workers: int) -> Iterator[tuple[int, None]]:
    """The baseline on the same stack, with as many worker processes."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare:app",
            "--workers",
            str(workers),
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
            "--backlog",
            "4096",
        ],
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/", process)
        yield port, None
    finally:
        process.terminate()
        process.wait(timeout=30)


def _load(port: int, phase: dict[str, object], processes: int) -> dict[str, float]:
    """Run ``phase`` from ``processes`` load processes and add up their figures."""
    specs = []
    for index in range(processes):
        spec = {
            **phase,
            "host": "127.0.0.1",
            "port": port,
            "write_key": WRITE_KEY,
            "run": f"{uuid.uuid4().hex[:8]}-{index}",
        }
        if "rate" in phase:
            spec["rate"] = float(phase["rate"]) / processes  # type: ignore[arg-type]
        specs.append(spec)
    with concurrent.futures.ProcessPoolExecutor(processes) as pool:
        results = list(pool.map(run_phase, specs))
    merged = {
        k: sum(r[k] for r in results)
        for k in ("requests", "errors", "requests_per_s", "events_per_s")
    }
    merged["p50_ms"] = max(r["p50_ms"] for r in results)
    merged["p99_ms"] = max(r["p99_ms"] for r in results)
    return merged


def _phases(seconds: float) -> dict[str, dict[str, object]]:
    return {
        "batch x100": {"kind": "batch", "batch_size": 100, "connections": 16, "seconds": seconds},
        "track x64": {"kind": "track", "connections": 64, "seconds": seconds},
        "track x128": {"kind": "track", "connections": 128, "seconds": seconds},
        "track @1000/s": {"kind": "rate", "rate": 1000, "connections": 64, "seconds": seconds},
    }


def _settings(pairs: list[str]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--set takes NAME=VALUE, not {pair!r}")
        settings[name] = value
    return settings


Server = AbstractContextManager[tuple[int, str | None]]
"""A server to load: its port and, for Headwater, its data directory."""


def _servers(args: argparse.Namespace) -> tuple[dict[str, Server], dict[str, str]]:
    """What to measure, by name: the baselines first (a bare endpoint with as many processes
    as each target), then the targets asked for; and the baseline of each target."""
    settings = _settings(args.set)
    counts = {
        "default": int(settings.get("workers", default_workers())),
        "tuned": args.workers or default_workers(embedded=False),
    }
    known = {
        "default": lambda: headwater(settings),
        "tuned": lambda: headwater({"workers": str(counts["tuned"]), "run_processor": "false"}),
    }
    targets = args.targets.split(",")
    for name in targets:
        if name not in known:
            raise SystemExit(f"unknown target {name!r}: choose among {', '.join(known)}")
    baseline_of = {name: f"bare x{counts[name]}" for name in targets}
    servers: dict[str, Server] = {
        f"bare x{n}": bare(n) for n in sorted({counts[name] for name in targets})
    }
    servers |= {name: known[name]() for name in targets}
    return servers, baseline_of


def _report(
    figures: dict[str, dict[str, dict[str, float]]],
    phases: list[str],
    baseline_of: dict[str, str],
) -> None:
    columns = ("events/s", 11), ("req/s", 10), ("p50 ms", 9), ("p99 ms", 9), ("errors", 8)
    header = "".join(f"{name:>{width}}" for name, width in columns)
    print(f"{'phase':<16}{'target':<10}{header}{'ratio':>8}")
    for name in phases:
        for target, measured in figures.items():
            f = measured[name]
            ratio = ""
            if target in baseline_of:
                base = max(figures[baseline_of[target]][name]["requests_per_s"], 1)
                ratio = f"{f['requests_per_s'] / base:.3f}"
            print(
                f"{name:<16}{target:<10}{f['events_per_s']:>11.0f}{f['requests_per_s']:>10.0f}"
                f"{f['p50_ms']:>9.2f}{f['p99_ms']:>9.2f}{f['errors']:>8.0f}{ratio:>8}"
            )
    print(
        "ratio: to the bare endpoint with as many processes, "
        + ", ".join(f"{target} to {base}" for target, base in baseline_of.items())
    )
    for target in baseline_of:
        hw = figures[target]
        single = max(hw["track x64"]["requests_per_s"], hw["track x128"]["requests_per_s"])
        checks = [
            ("/v1/batch >= 20,000 events/s", hw["batch x100"]["events_per_s"] >= 20_000),
            ("/v1/track >= 5,000 requests/s", single >= 5_000),
            ("/v1/track p99 < 50 ms at 1,000/s", hw["track @1000/s"]["p99_ms"] < 50),
        ]
        for label, ok in checks:
            print(f"{target}: target {label}: {'met' if ok else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--load-processes", type=int, default=1)
    parser.add_argument(
        "--workers", type=int, default=None, help="tuned: headwater serve --workers (one a core)"
    )
    parser.add_argument("--targets", default="default,tuned", help="default, tuned or both")
    parser.add_argument(
        "--set", action="append", default=[], help="NAME=VALUE: a setting of the default run"
    )
    parser.add_argument(
        "--drain-seconds", type=float, default=300.0, help="default: wait this long at most"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()

    phases = _phases(args.seconds)
    warmup = {"kind": "track", "connections": 8, "seconds": 2.0}
    figures: dict[str, dict[str, dict[str, float]]] = {}
    processing = _settings(args.set).get("run_processor", "true").lower() != "false"
    servers, baseline_of = _servers(args)
    for target, server in servers.items():
        with server as (port, data_dir):
            _load(port, warmup, 1)
            figures[target] = {
                name: _load(port, phase, args.load_processes) for name, phase in phases.items()
            }
            if target == "default" and processing and data_dir is not None:
                backlog, seconds, left = asyncio.run(_drain(data_dir, args.drain_seconds))
                figures[target]["drain"] = {"backlog": backlog, "seconds": seconds, "left": left}
    _report(figures, list(phases), baseline_of)
    if "drain" in figures.get("default", {}):
        _report_drain(figures["default"], args.seconds * len(phases))
    if args.json:
        print(json.dumps(figures, indent=2))


def _report_drain(figures: dict[str, dict[str, float]], load_seconds: float) -> None:
    """How far the processor was behind when the load stopped, and the rate at which events
    were collected and processed, end to end."""
    drain = figures["drain"]
    events = sum(f["events_per_s"] for name, f in figures.items() if name != "drain")
    events *= load_seconds / (len(figures) - 1)
    caught_up = "caught up" if drain["left"] == 0 else f"{drain['left']:.0f} still waiting"
    print(
        f"default: processor backlog when the load stopped {drain['backlog']:.0f} events,"
        f" {caught_up} after {drain['seconds']:.1f} s; collected and processed end to end:"
        f" {events / (load_seconds + drain['seconds']):.0f} events/s"
    )


if __name__ == "__main__":
    main()
