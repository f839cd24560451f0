"""File import benchmark: rows/s of a file of events into the event log, against PostgreSQL's
own ``COPY`` of the same rows into a table like the log's, measured in the same run.

    .venv/bin/python -m bench.imports [--rows 1000000] [--formats csv,parquet]
                                      [--set NAME=VALUE ...]

On a fresh embedded PostgreSQL in a temporary data directory (the default setup), with
``headwater serve`` as ``./scripts/serve`` runs it but for the processor, which is off so that
the figure is the import's alone (``--set run_processor=true`` to see it with processing):

1. writes a file of ``--rows`` events (user, event name, timestamp, four properties of
   different types), as CSV and as Parquet;
2. for each format: uploads it (``POST .../imports``; timed apart: the upload reads the file
   once to count its rows and find its columns), starts the import and polls it until done,
   and counts the rows in the log: rows/s is rows over the time from start to done;
3. tracking while importing: one client sends ``/v1/track`` requests one after the other
   (a 10 ms pause between them) for ``--quiet-seconds`` before any import, then during the
   first format's import; the p50 and p99 of each, and the ratio of the import's to the
   quiet one's (the import commits apart from the tracking API's group commit, in
   ``import_commit_rows`` per transaction);
4. the CPU time each import took, per row, in the server's processes (the worker included)
   and in PostgreSQL's (the tracking probe's requests and the progress polls included, a
   small share): unlike rows/s, it hardly depends on what else runs on the machine;
5. the baseline: ``COPY`` of the same rows, as the log stores them (the normalised payloads,
   exported from the log), into ``copy_baseline (LIKE events INCLUDING ALL)``, through
   asyncpg's binary copy; rows/s and the ratio of each import to it.

The target (issue 19) is >= 50,000 rows/s on this 2-core machine, where COPY reaches about
68,000 rows/s. Other work on the machine slows both sides alike.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bench.ingest import ADMIN_TOKEN, cpu_seconds, fresh_database, serve_on


def write_files(rows: int, directory: Path) -> dict[str, Path]:
    """The same ``rows`` events as CSV and Parquet."""
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    table = pa.table(
        {
            "user_id": [f"user-{rng.randrange(rows // 5 + 1)}" for _ in range(rows)],
            "event": [
                rng.choice(("Order Completed", "Product Viewed", "Signed Up")) for _ in range(rows)
            ],
            "timestamp": [
                (start + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(rows)
            ],
            "order_id": [f"o-{i}" for i in range(rows)],
            "price": [round(rng.uniform(1, 500), 2) for _ in range(rows)],
            "quantity": [rng.randrange(1, 9) for _ in range(rows)],
            "coupon": [rng.random() < 0.2 for _ in range(rows)],
        }
    )
    paths = {"csv": directory / "events.csv", "parquet": directory / "events.parquet"}
    pacsv.write_csv(table, paths["csv"])
    pq.write_table(table, paths["parquet"])
    return paths


_TRACK_KEY = "bench-track-key"


class TrackingProbe(threading.Thread):
    """Sends ``/v1/track`` requests one at a time until stopped; keeps each one's latency."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self._base = base
        self.stop = threading.Event()
        self.latencies: list[float] = []

    def run(self) -> None:
        with httpx.Client(base_url=self._base, auth=(_TRACK_KEY, ""), timeout=60) as http:
            n = 0
            while not self.stop.is_set():
                n += 1
                body = {"userId": f"probe-{n % 100}", "event": "Probe", "properties": {"n": n}}
                began = time.perf_counter()
                http.post("/v1/track", json=body).raise_for_status()
                self.latencies.append(time.perf_counter() - began)
                time.sleep(0.01)


def percentiles(latencies: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


def probe_alone(base: str, seconds: float) -> list[float]:
    probe = TrackingProbe(base)
    probe.start()
    time.sleep(seconds)
    probe.stop.set()
    probe.join()
    return probe.latencies


def import_file(
    base: str, workspace: str, source_id: int, path: Path, fmt: str
) -> dict[str, float]:
    """Upload, start and wait: the seconds each took and the rows imported."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    types = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
    with httpx.Client(
        base_url=f"{base}/api/v1/workspaces/{workspace}", headers=headers, timeout=600
    ) as http:
        began = time.perf_counter()
        with path.open("rb") as handle:
            response = http.post(
                "/imports",
                params={"source_id": source_id, "kind": "events", "file_name": path.name},
                content=handle,
                headers={"Content-Type": types[fmt]},
            )
        response.raise_for_status()
        job = response.json()
        uploaded = time.perf_counter()
        http.post(f"/imports/{job['id']}/start", json={}).raise_for_status()
        while True:
            job = http.get(f"/imports/{job['id']}").json()
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.05)
        done = time.perf_counter()
    if job["status"] != "done":
        raise SystemExit(f"import failed: {job['failure']}")
    return {
        "upload_s": uploaded - began,
        "import_s": done - uploaded,
        "imported": job["imported"],
        "rejected": job["rejected"],
    }


async def copy_baseline(url: str, source_id: int) -> tuple[int, float]:
    """COPY the source's rows, as the log holds them, into a table like the log's: (rows, s)."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute("CREATE TABLE copy_baseline (LIKE events INCLUDING ALL)")
        columns = [
            "partition",
            "seq",
            "workspace_id",
            "source_id",
            "message_id",
            "type",
            "name",
            "user_id",
            "anonymous_id",
            "timestamp",
            "received_at",
            "payload",
        ]
        records = await connection.fetch(
            f"SELECT {', '.join(columns)} FROM events WHERE source_id = $1", source_id
        )
        await connection.execute("TRUNCATE copy_baseline")
        began = time.perf_counter()
        await connection.copy_records_to_table("copy_baseline", records=records, columns=columns)
        seconds = time.perf_counter() - began
    finally:
        await connection.close()
    return len(records), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--quiet-seconds", type=float, default=15)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.set)
    settings.setdefault("import_max_rows", str(max(args.rows, 1_000_000)))
    settings.setdefault("import_max_bytes", str(1024**3))
    with tempfile.TemporaryDirectory(prefix="headwater-bench-files-") as files:
        made = time.perf_counter()
        paths = write_files(args.rows, Path(files))
        sizes = {fmt: path.stat().st_size / 1e6 for fmt, path in paths.items()}
        print(
            f"{args.rows:,} rows written as CSV ({sizes['csv']:.0f} MB) and Parquet"
            f" ({sizes['parquet']:.0f} MB) in {time.perf_counter() - made:.1f} s"
        )
        results: dict[str, dict[str, float]] = {}
        with fresh_database() as (url, data_dir), serve_on(url, data_dir, **settings) as port:
            base = f"http://127.0.0.1:{port}"
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            with httpx.Client(base_url=f"{base}/api/v1", headers=headers) as http:
                http.post("/workspaces", json={"slug": "bench-track"}).raise_for_status()
                http.post(
                    "/workspaces/bench-track/sources",
                    json={"name": "probe", "write_key": _TRACK_KEY},
                ).raise_for_status()
            quiet = probe_alone(base, args.quiet_seconds)
            during: list[float] = []
            for fmt in args.formats.split(","):
                # A workspace per format: the same rows in one workspace would be duplicates.
                workspace = f"bench-{fmt}"
                headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
                with httpx.Client(base_url=f"{base}/api/v1", headers=headers) as http:
                    http.post("/workspaces", json={"slug": workspace}).raise_for_status()
                    source = http.post(
                        f"/workspaces/{workspace}/sources", json={"name": "files"}
                    ).json()
                probe = TrackingProbe(base)
                if not during:
                    probe.start()
                try:
                    before = cpu_seconds(port, data_dir)
                    results[fmt] = import_file(base, workspace, source["id"], paths[fmt], fmt)
                    after = cpu_seconds(port, data_dir)
                    results[fmt]["cpu_server"] = after[0] - before[0]
                    results[fmt]["cpu_postgres"] = after[1] - before[1]
                finally:
                    if probe.is_alive():
                        probe.stop.set()
                        probe.join()
                        during = probe.latencies
                results[fmt]["source"] = source["id"]
            before = cpu_seconds(port, data_dir)
            copied, copy_s = asyncio.run(
                copy_baseline(url, int(results[args.formats.split(",")[0]]["source"]))
            )
            copy_cpu = cpu_seconds(port, data_dir)[1] - before[1]
    copy_rate = copied / copy_s
    print(f"{'what':<28}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'ratio to COPY':>15}")
    print(f"{'COPY (baseline)':<28}{copied:>12,}{copy_s:>10.2f}{copy_rate:>12,.0f}{1:>15.2f}")
    for fmt, result in results.items():
        rate = args.rows / result["import_s"]
        print(
            f"{fmt + ' import':<28}{int(result['imported']):>12,}{result['import_s']:>10.2f}"
            f"{rate:>12,.0f}{rate / copy_rate:>15.2f}"
        )
        print(f"{fmt + ' upload (read once)':<28}{'':>12}{result['upload_s']:>10.2f}")
    print(f"{'CPU µs per row':<28}{'server':>12}{'postgres':>10}{'all':>12}")
    print(f"{'COPY (baseline)':<28}{'':>12}{copy_cpu / copied * 1e6:>10.1f}{'':>12}")
    for fmt, result in results.items():
        server, postgres = (result[k] / args.rows * 1e6 for k in ("cpu_server", "cpu_postgres"))
        print(f"{fmt + ' import':<28}{server:>12.1f}{postgres:>10.1f}{server + postgres:>12.1f}")
    first = args.formats.split(",")[0]
    quiet_p50, quiet_p99 = percentiles(quiet)
    busy_p50, busy_p99 = percentiles(during)
    print(
        f"{'/v1/track, one client':<28}{'requests':>12}{'p50 ms':>10}{'p99 ms':>12}"
        f"{'p99 ratio':>15}"
    )
    print(
        f"{'no import (baseline)':<28}{len(quiet):>12,}{quiet_p50:>10.1f}{quiet_p99:>12.1f}"
        f"{1:>15.2f}"
    )
    print(
        f"{'during the ' + first + ' import':<28}{len(during):>12,}{busy_p50:>10.1f}"
        f"{busy_p99:>12.1f}{busy_p99 / quiet_p99:>15.2f}"
    )
    print("2 cores shared with other work: figures are pessimistic.")


if __name__ == "__main__":
    main()
