"""What PII rules cost collection: ``headwater serve`` as the default command runs it (one
process per core, the processor and delivery on, embedded PostgreSQL in a fresh data
directory), loaded through ``/v1/batch`` (100 events a request, 16 connections) and
``/v1/track`` (64 connections) with messages that carry personal values, once with no rule and
once with a realistic rule set (10 rules: exact paths hashed, redacted and dropped, detectors on
``properties.*`` and ``context.traits.*``, a key pattern, an allow and a destination's rule).

    .venv/bin/python -m bench.pii [--seconds 10] [--rounds 2] [--load-processes 1]

Prints events/s of each phase without and with rules, and the ratio (target: >= 0.90, detection
costs collection at most 10%). The two servers run one after the other, ``--rounds`` times
alternately, and the best run of each counts (the machine is shared: the best is the least
disturbed).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import subprocess
import uuid
from typing import Any

import httpx

from bench.ingest import ADMIN_TOKEN, WRITE_KEY, headwater
from bench.load import run_phase

__all__ = ["RULES", "main"]

MESSAGE: dict[str, object] = {
    "type": "track",
    "userId": "@USER@",
    "event": "Order Completed",
    "messageId": "@MESSAGE@",
    "properties": {
        "order_id": "o-1001",
        "total": 42.5,
        "currency": "EUR",
        "email": "ana.lima@example.com",
        "phone": "+351912345678",
        "note": "leave at the door",
        "coupon": "WINTER",
    },
    "context": {
        "library": {"name": "bench", "version": "1"},
        "ip": "203.0.113.9",
        "traits": {"email": "ana.lima@example.com", "plan": "pro"},
    },
    "timestamp": "2026-11-23T10:00:00.000Z",
}

RULES: list[dict[str, Any]] = [
    {"path": "properties.email", "action": "hash"},
    {"path": "context.traits.email", "action": "hash"},
    {"path": "properties.phone", "action": "redact"},
    {"path": "context.ip", "action": "redact"},
    {"path": "properties.ssn", "action": "drop"},
    {"path": "properties.*", "detector": "card", "action": "block"},
    {"path": "properties.*", "detector": "iban", "action": "redact"},
    {"path": "context.traits.*", "detector": "phone", "action": "redact"},
    {"key": "(?i)passport", "action": "drop"},
    {"path": "properties.coupon", "action": "allow"},
]
"""The realistic set (its destination rule is added once the bench's destination exists)."""

_PHASES = {
    "batch x100": {"kind": "batch", "batch_size": 100, "connections": 16},
    "track x64": {"kind": "track", "connections": 64},
}


def _load(port: int, phase: dict[str, Any], seconds: float, processes: int) -> float:
    specs = [
        {
            **phase,
            "seconds": seconds,
            "host": "127.0.0.1",
            "port": port,
            "write_key": WRITE_KEY,
            "run": f"{uuid.uuid4().hex[:8]}-{index}",
            "message": MESSAGE,
        }
        for index in range(processes)
    ]
    with concurrent.futures.ProcessPoolExecutor(processes) as pool:
        return sum(r["events_per_s"] for r in pool.map(run_phase, specs))


def _add_rules(port: int) -> None:
    base = f"http://127.0.0.1:{port}/api/v1/workspaces/default"
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        hook = client.post(
            "/destinations",
            json={
                "name": "sink",
                "kind": "webhook",
                "config": {"url": "http://127.0.0.1:9/"},
                "enabled": False,
            },
        )
        hook.raise_for_status()
        destination = {
            "path": "properties.note",
            "action": "drop",
            "destinations": [hook.json()["id"]],
        }
        for rule in [*RULES[:9], destination]:
            client.post("/pii-rules", json=rule).raise_for_status()


def _run(with_rules: bool, seconds: float, processes: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    try:
        with headwater({}) as (port, _):
            if with_rules:
                _add_rules(port)
            for name, phase in _PHASES.items():
                figures[name] = _load(port, phase, seconds, processes)
                label = "10 rules" if with_rules else "no rules"
                print(f"  {label}: {name} {figures[name]:,.0f} events/s", flush=True)
    except subprocess.TimeoutExpired:  # the server still drained its backlog: figures stand
        pass
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--load-processes", type=int, default=1)
    args = parser.parse_args()
    best: dict[bool, dict[str, float]] = {False: {}, True: {}}
    for _ in range(args.rounds):
        for with_rules in (False, True):
            figures = _run(with_rules, args.seconds, args.load_processes)
            for name, value in figures.items():
                best[with_rules][name] = max(best[with_rules].get(name, 0.0), value)
    print(f"{'phase':<12} {'no rules':>12} {'10 rules':>12} {'ratio':>7}")
    for name in _PHASES:
        without, with_ = best[False][name], best[True][name]
        print(f"{name:<12} {without:>10,.0f}/s {with_:>10,.0f}/s {with_ / without:>7.2f}")


if __name__ == "__main__":
    main()
