"""Management API benchmark: what signing in and the permission check add to a request.

    .venv/bin/python -m bench.management [--requests 2000] [--seconds 3]

Starts ``headwater serve`` (one process, processor off) on a fresh embedded PostgreSQL and,
from this process, sends on keep-alive connections:

- ``GET /health``: the baseline (no sign-in, no database);
- ``GET /api/v1/workspaces/default/sources`` with the configured admin token (the first
  owner's, ``HEADWATER_ADMIN_TOKEN``: compared in memory, then the owner read), with an API
  token of the first owner (role owner) and with a service account's token (role developer),
  the last two read from ``api_tokens`` on every request (on a checkout from before issue 14,
``GET /api/v1/sources``, the same list).

Each is measured sequentially (``--requests`` on one connection: p50/p99) and concurrently
(16 connections for ``--seconds``: requests/s, p50/p99), and printed with the latency it
adds to ``/health``'s in the same run. Only ``bench.ingest``'s server helpers and
``bench.load``'s client are used, so the bench also runs on a checkout from before API tokens
(``bench.alternate --same-bench``): there the token lines say "not available".
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from bench.ingest import ADMIN_TOKEN, fresh_database, serve_on
from bench.load import Connection, Result, connect

_SOURCES = "/api/v1/workspaces/default/sources"
_OLD_SOURCES = "/api/v1/sources"
"""The same list before routes moved under their workspace (a checkout before issue 14)."""
_CONCURRENCY = 16


def _raw(path: str, token: str | None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n".encode()


async def _sequential(port: int, raw: bytes, requests: int) -> Result:
    result = Result()
    connection = await connect("127.0.0.1", port)
    for _ in range(50):  # warm-up
        await connection.request(raw)
    started = time.perf_counter()
    for _ in range(requests):
        begun = time.perf_counter()
        status = await connection.request(raw)
        result.latencies.append(time.perf_counter() - begun)
        result.requests += 1
        result.errors += status != 200
    result.seconds = time.perf_counter() - started
    assert connection.transport is not None
    connection.transport.close()
    return result


async def _concurrent(port: int, raw: bytes, seconds: float) -> Result:
    result = Result()
    connections: list[Connection] = [await connect("127.0.0.1", port) for _ in range(_CONCURRENCY)]
    deadline = time.perf_counter() + seconds

    async def client(connection: Connection) -> None:
        while time.perf_counter() < deadline:
            begun = time.perf_counter()
            status = await connection.request(raw)
            result.latencies.append(time.perf_counter() - begun)
            result.requests += 1
            result.errors += status != 200

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in connections))
    result.seconds = time.perf_counter() - started
    for connection in connections:
        assert connection.transport is not None
        connection.transport.close()
    return result


def _tokens(base: str) -> dict[str, str | None]:
    """The tokens to sign in with; a kind the server cannot create is None."""
    found: dict[str, str | None] = {"admin token (configured)": ADMIN_TOKEN}
    bodies = {
        "first owner's API token": {"name": "bench-owner", "role": "owner", "pii_read": True},
        "service account (developer)": {
            "name": "bench-developer",
            "role": "developer",
            "service_account": True,
        },
    }
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    for label, body in bodies.items():
        response = httpx.post(
            f"{base}/api/v1/workspaces/default/tokens", json=body, headers=headers
        )
        found[label] = response.json()["token"] if response.status_code == 201 else None
    return found


def _sources(base: str) -> str:
    """The path of the default workspace's sources on the server under test."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    for path in (_SOURCES, _OLD_SOURCES):
        if httpx.get(base + path, headers=headers).status_code == 200:
            return path
    raise SystemExit("the server lists no sources with the admin token")


def _line(label: str, result: Result, baseline: Result | None) -> str:
    summary = result.summary()
    line = (
        f"  {label:<38} {summary['requests_per_s']:>7.0f} req/s"
        f"  p50 {summary['p50_ms']:6.2f} ms  p99 {summary['p99_ms']:6.2f} ms"
        f"  errors {summary['errors']:.0f}"
    )
    if baseline is not None:
        base = baseline.summary()
        line += (
            f"  (+{summary['p50_ms'] - base['p50_ms']:.2f} ms p50,"
            f" +{summary['p99_ms'] - base['p99_ms']:.2f} ms p99 over /health)"
        )
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="sequential requests each")
    parser.add_argument("--seconds", type=float, default=3.0, help="concurrent run each")
    args = parser.parse_args()
    with fresh_database() as (url, data_dir), serve_on(url, data_dir) as port:
        base = f"http://127.0.0.1:{port}"
        tokens = _tokens(base)
        sources = _sources(base)
        print(f"sources: GET {sources}")
        targets: dict[str, bytes] = {"GET /health (baseline)": _raw("/health", None)}
        for label, token in tokens.items():
            if token is None:
                print(f"  {label}: not available on this checkout")
            else:
                targets[f"sources, {label}"] = _raw(sources, token)
        for phase in ("sequential", "concurrent"):
            title = (
                f"{args.requests} sequential requests on one connection"
                if phase == "sequential"
                else f"{_CONCURRENCY} concurrent connections for {args.seconds:.0f} s"
            )
            print(title)
            baseline: Result | None = None
            for label, raw in targets.items():
                if phase == "sequential":
                    result = asyncio.run(_sequential(port, raw, args.requests))
                else:
                    result = asyncio.run(_concurrent(port, raw, args.seconds))
                print(_line(label, result, baseline), flush=True)
                baseline = baseline or result


if __name__ == "__main__":
    main()
