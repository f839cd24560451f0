"""Ingest benchmark: Headwater's tracking API against a bare endpoint on the same stack.

    .venv/bin/python -m bench.ingest [--seconds 10] [--workers 2] [--load-processes 1]

Starts ``headwater serve --workers N`` (embedded PostgreSQL in a temporary data directory,
durable acks, the processor off: collection alone) and ``bench.bare`` (uvicorn + httptools +
uvloop answering without work, with as many workers), then loads each from separate
processes on this machine with:

- ``/v1/batch``, 100 events a request (unique messageIds), closed loop, 16 connections;
- ``/v1/track``, single events, closed loop, 64 and 128 connections;
- ``/v1/track`` at a fixed 1,000 requests/s (open loop) for the latency at that rate.

Prints events/s, requests/s, p50/p99 ack latency, and Headwater's ratio to the bare endpoint.
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
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.load import run_phase
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
            await bootstrap(engine, admin_token=ADMIN_TOKEN)
            await engine.dispose()
            return url

        url = asyncio.run(prepare())
        try:
            yield url, data_dir
        finally:
            asyncio.run(embedded.stop())


@contextmanager
def serve_on(url: str, data_dir: str, **settings: str) -> Iterator[int]:
    """``headwater serve`` on the database at ``url`` (processor off unless ``settings`` say
    otherwise; ``settings`` are ``HEADWATER_`` names without the prefix), ready; its port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env |= {
        "HEADWATER_DATABASE_URL": url,
        "HEADWATER_DATA_DIR": data_dir,
        "HEADWATER_ADMIN_TOKEN": ADMIN_TOKEN,
        "HEADWATER_RUN_PROCESSOR": "false",
        "HEADWATER_LOG_LEVEL": "warning",
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
def headwater(workers: int) -> Iterator[int]:
    """``headwater serve`` as a user runs it: embedded PostgreSQL in a fresh data directory."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="headwater-bench-") as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
        env |= {
            "HEADWATER_DATA_DIR": data_dir,
            "HEADWATER_ADMIN_TOKEN": ADMIN_TOKEN,
            "HEADWATER_LOG_LEVEL": "warning",
            # Collection alone: the processor has its own benchmark.
            "HEADWATER_RUN_PROCESSOR": "false",
            "HEADWATER_WORKERS": str(workers),
        }
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
                f"http://127.0.0.1:{port}/api/v1/sources",
                json={"name": "bench", "write_key": WRITE_KEY},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            ).raise_for_status()
            yield port
        finally:
            process.terminate()
            process.wait(timeout=60)


@contextmanager
def bare(workers: int) -> Iterator[int]:
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
        yield port
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--load-processes", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="headwater serve --workers")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()

    phases = _phases(args.seconds)
    warmup = {"kind": "track", "connections": 8, "seconds": 2.0}
    figures: dict[str, dict[str, dict[str, float]]] = {}
    servers = (("bare", bare), ("headwater", headwater))
    for target, server in servers:
        with server(args.workers) as port:
            _load(port, warmup, 1)
            figures[target] = {
                name: _load(port, phase, args.load_processes) for name, phase in phases.items()
            }

    columns = ("events/s", 11), ("req/s", 10), ("p50 ms", 9), ("p99 ms", 9), ("errors", 8)
    print(f"{'phase':<16}{'target':<11}" + "".join(f"{name:>{width}}" for name, width in columns))
    for name in phases:
        for target in ("bare", "headwater"):
            f = figures[target][name]
            print(
                f"{name:<16}{target:<11}{f['events_per_s']:>11.0f}{f['requests_per_s']:>10.0f}"
                f"{f['p50_ms']:>9.2f}{f['p99_ms']:>9.2f}{f['errors']:>8.0f}"
            )
        ratio = figures["headwater"][name]["requests_per_s"] / max(
            figures["bare"][name]["requests_per_s"], 1
        )
        print(f"{'':<16}{'ratio headwater/bare: ' + format(ratio, '.2f'):>58}")
    hw = figures["headwater"]
    checks = [
        ("/v1/batch >= 20,000 events/s", hw["batch x100"]["events_per_s"] >= 20_000),
        (
            "/v1/track >= 5,000 requests/s",
            max(hw["track x64"]["requests_per_s"], hw["track x128"]["requests_per_s"]) >= 5_000,
        ),
        ("/v1/track p99 < 50 ms at 1,000/s", hw["track @1000/s"]["p99_ms"] < 50),
    ]
    for label, ok in checks:
        print(f"target {label}: {'met' if ok else 'MISSED'}")
    if args.json:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
