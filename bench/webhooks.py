"""Webhook source throughput: signed Stripe events through ``POST /v1/hooks/{key}`` against the
same messages sent to ``/v1/track``, on one ``headwater serve`` process and fresh embedded
PostgreSQL, measured one after the other in the same run.

    .venv/bin/python -m bench.webhooks [--requests 3000] [--connections 32]

Each webhook request is checked (HMAC-SHA256 of ``t.body``), mapped by the Stripe preset,
stored by the collector and recorded in the debugger's history; each tracking request carries
the message the preset makes. Both are closed loops with unique ids. Prints requests/s, p50
and p99 latency for each, and the webhook's ratio to the tracking API (the baseline). The
load generator runs on the same machine, so on 2 shared cores every figure is pessimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import statistics
import time
from collections.abc import Callable

import httpx

from bench.ingest import ADMIN_TOKEN, WRITE_KEY, fresh_database, serve_on

__all__ = ["main"]

_SECRET = "whsec_bench"


def _stripe(i: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "id": f"evt_bench_{i}",
            "object": "event",
            "type": "invoice.paid",
            "created": 1_733_500_000 + i,
            "livemode": False,
            "data": {"object": {"id": f"in_{i}", "customer": f"cus_{i % 500}", "total": 4200}},
        }
    ).encode()
    now = int(time.time())
    mac = hmac.new(_SECRET.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "Stripe-Signature": f"t={now},v1={mac}"}
    return body, headers


def _track(i: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "type": "track",
            "event": "invoice.paid",
            "userId": f"cus_{i % 500}",
            "messageId": f"evt_track_{i}",
            "timestamp": "2024-12-06T15:46:40Z",
            "properties": {"id": f"in_{i}", "customer": f"cus_{i % 500}", "total": 4200},
        }
    ).encode()
    return body, {"Content-Type": "application/json"}


async def _load(
    url: str, make: Callable[[int], tuple[bytes, dict[str, str]]], total: int, connections: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    counter = iter(range(total))
    auth = (WRITE_KEY, "")
    async with httpx.AsyncClient(auth=auth, timeout=60) as client:

        async def worker() -> None:
            for i in counter:
                body, headers = make(i)
                began = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - began)
                if response.status_code != 200:
                    raise SystemExit(f"{url}: {response.status_code} {response.text}")

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return time.perf_counter() - began, latencies


def _line(name: str, seconds: float, latencies: list[float]) -> float:
    rate = len(latencies) / seconds
    cuts = statistics.quantiles(latencies, n=100)
    p50, p99 = cuts[49] * 1000, cuts[98] * 1000
    print(f"{name:<22} {rate:>8.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with fresh_database() as (database, data_dir), serve_on(database, data_dir) as port:
        base = f"http://127.0.0.1:{port}"
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        api = f"{base}/api/v1/workspaces/default"
        httpx.post(
            f"{api}/sources", json={"name": "bench", "write_key": WRITE_KEY}, headers=admin
        ).raise_for_status()
        made = httpx.post(
            f"{api}/webhook-sources",
            json={"name": "stripe", "preset": "stripe", "secret": _SECRET},
            headers=admin,
        )
        made.raise_for_status()
        hook = base + made.json()["hook"]["path"]
        asyncio.run(_load(f"{base}/v1/track", _track, 200, 8))  # warm both paths up
        asyncio.run(_load(hook, lambda i: _stripe(10**7 + i), 200, 8))
        print(f"{args.requests} requests, {args.connections} connections, 1 server process")
        tracked = _line(
            "/v1/track (baseline)",
            *asyncio.run(_load(f"{base}/v1/track", _track, args.requests, args.connections)),
        )
        hooked = _line(
            "/v1/hooks (Stripe)",
            *asyncio.run(_load(hook, _stripe, args.requests, args.connections)),
        )
        print(f"webhook / tracking API: {hooked / tracked:.2f}")


if __name__ == "__main__":
    main()
