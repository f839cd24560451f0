"""What PII rules cost collection: ``headwater serve`` as the default command runs it (one
process per core, the processor and delivery on, embedded PostgreSQL in a fresh data
directory), loaded through ``/v1/batch`` (100 events a request, 16 connections) and
``/v1/track`` (64 connections) with messages that carry personal values, once with no rule and
once with a realistic rule set (10 rules: exact paths hashed, redacted and dropped, detectors on
``properties.*`` and ``context.traits.*``, a key pattern, an allow and a destination's rule).

    .venv/bin/python -m bench.pii [--seconds 10] [--rounds 2] [--load-processes 1]
                                  [--processor on|off] [--rate 5000]
    .venv/bin/python -m bench.pii --micro [--compare REF] [--turns 200]

Prints events/s of each phase without and with rules, each round's ratio and the median ratio
(target: >= 0.90, detection costs collection at most 10%); then, with batches started at a
fixed ``--rate`` of events/s whatever the answers (open loop), what an event cost in CPU and
the p50 and p99 of the acknowledgements: the rules' cost below saturation, where the closed
loops' events/s cannot show it. One server at a time: before each phase the processor's
backlog of the one before is drained, and a server has exited (its PostgreSQL stopped) before
the next starts. A round runs both servers, in turn: no rules first in odd rounds, the rules
first in even ones.

``--processor off`` runs the servers without the processor (``run_processor=false``):
collection alone, where the rules apply, with no backlog to wait for.

``--micro`` measures instead what the rules cost in Python alone: microseconds per event of
``apply`` with the 9 collection rules on the message as collection normalised it, with the
message's values repeating (as the load sends them) and with values unique to each event
(emails, phones, order ids, notes). ``--compare REF`` measures the rules module of git ``REF``
beside the current one, interleaved in the same process. Then what the rules add to
collection's Python path per event (decoding, normalising, the rules, encoding for storage).
The server runs also print the CPU each event cost the server and its PostgreSQL (their
processes' CPU time over the phase), less disturbed than events/s by a busy machine. With the
processor on (the default command), each phase also prints what an event cost once it was
collected and processed: the CPU of both from the phase's start until the backlog is drained.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import msgspec

from bench.ingest import ADMIN_TOKEN, WRITE_KEY, _drain, cpu_seconds, headwater
from bench.load import run_phase
from headwater import pii
from headwater.collect.service import _governed
from headwater.pii import rules as current_rules
from headwater.spec import encode_payload
from headwater.spec.normalise import Envelope, normalise
from headwater.telemetry.metrics import Metrics

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
        "email": "@USER@@example.com",
        "phone": "+351912345678",
        "note": "leave at the door",
        "coupon": "WINTER",
    },
    "context": {
        "library": {"name": "bench", "version": "1"},
        "ip": "203.0.113.9",
        "traits": {"email": "@USER@@example.com", "plan": "pro"},
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


def _phases(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The closed-loop phases, then the batches at ``--rate`` events/s (unless 0)."""
    if not args.rate:
        return _PHASES
    fixed = {"kind": "batch", "batch_size": 100, "connections": 16}
    rate = args.rate / 100 / args.load_processes  # requests/s of each load process
    return {**_PHASES, f"batch @{args.rate:,.0f}/s": fixed | {"rate": rate}}


def _load(port: int, phase: dict[str, Any], seconds: float, processes: int) -> dict[str, float]:
    """Events/s of the load processes together, and the worst of their p50 and p99 (ms)."""
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
        results = list(pool.map(run_phase, specs))
    return {
        "events_per_s": sum(r["events_per_s"] for r in results),
        "p50_ms": max(r["p50_ms"] for r in results),
        "p99_ms": max(r["p99_ms"] for r in results),
    }


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


_DRAIN_SECONDS = 300
"""Longest wait for the processor's backlog before a phase or the server's exit."""


def _run(with_rules: bool, args: argparse.Namespace) -> dict[str, float]:
    figures: dict[str, float] = {}
    label = "10 rules" if with_rules else "no rules"
    processor = args.processor == "on"
    settings = {} if processor else {"run_processor": "false"}
    # The server drains its backlog before it stops: waited for in full, never beside the next.
    with headwater(settings, exit_seconds=_DRAIN_SECONDS * 2) as (port, data_dir):
        if with_rules:
            _add_rules(port)
        if processor:
            _settle(data_dir, label)
        for name, phase in _phases(args).items():
            start = cpu_seconds(port, data_dir)
            load = _load(port, phase, args.seconds, args.load_processes)
            figures[name] = load["events_per_s"]
            events = figures[name] * args.seconds
            after = cpu_seconds(port, data_dir)
            server, postgres = after[0] - start[0], after[1] - start[1]
            figures[f"{name} cpu"] = (server + postgres) / events * 1e6
            print(
                f"  {label}: {name} {figures[name]:,.0f} events/s,"
                f" {figures[f'{name} cpu']:.0f} µs of CPU an event (server"
                f" {server / events * 1e6:.0f}, PostgreSQL {postgres / events * 1e6:.0f})",
                flush=True,
            )
            if "rate" in phase:
                figures[f"{name} p99"] = load["p99_ms"]
                print(
                    f"  {label}: {name} acknowledged in p50 {load['p50_ms']:.1f} ms,"
                    f" p99 {load['p99_ms']:.1f} ms",
                    flush=True,
                )
            if processor:
                _settle(data_dir, label)
                settled = cpu_seconds(port, data_dir)
                whole = settled[0] + settled[1] - start[0] - start[1]
                figures[f"{name} whole"] = whole / events * 1e6
                print(
                    f"  {label}: {name} collected and processed:"
                    f" {figures[f'{name} whole']:.0f} µs of CPU an event",
                    flush=True,
                )
        stopping = time.monotonic()
    print(f"  {label}: server exited in {time.monotonic() - stopping:.1f} s", flush=True)
    return figures


def _settle(data_dir: str, label: str) -> None:
    """Wait until the processor has caught up with what was collected (nothing running but
    the server, idle, when the next load starts)."""
    backlog, took, left = asyncio.run(_drain(data_dir, _DRAIN_SECONDS))
    if backlog:
        state = "caught up" if not left else f"{left:,} events still waiting"
        print(f"  {label}: backlog {backlog:,} events, {state} after {took:.1f} s", flush=True)


def _serve(args: argparse.Namespace) -> None:
    phases = _phases(args)
    names = [*phases, *(f"{name} cpu" for name in phases)]
    names += [f"{name} p99" for name, phase in phases.items() if "rate" in phase]
    if args.processor == "on":
        names += [f"{name} whole" for name in phases]
    ratios: dict[str, list[float]] = {name: [] for name in names}
    runs: dict[bool, dict[str, list[float]]] = {
        with_rules: {name: [] for name in names} for with_rules in (False, True)
    }
    for round_ in range(1, args.rounds + 1):
        print(f"round {round_}", flush=True)
        order = (False, True) if round_ % 2 else (True, False)
        figures = {with_rules: _run(with_rules, args) for with_rules in order}
        for name in names:
            runs[False][name].append(figures[False][name])
            runs[True][name].append(figures[True][name])
            ratios[name].append(figures[True][name] / figures[False][name])
    # Events/s: the ratio with rules / without (target >= 0.90). CPU an event: the ratio
    # without / with, the throughput the rules would leave a server bound by its CPU. At a
    # fixed rate, events/s is the rate either way: its CPU an event and p99 are the figures.
    print(f"{'phase':<16} {'no rules':>12} {'10 rules':>12} {'ratios':>18} {'median':>7}")
    for name in names:
        without = statistics.median(runs[False][name])
        with_ = statistics.median(runs[True][name])
        cost = name.endswith((" cpu", " whole", " p99"))
        each = [1 / r if cost else r for r in ratios[name]]
        unit = " ms" if name.endswith(" p99") else " µs" if cost else "/s"
        places = 1 if unit == " ms" else 0
        print(
            f"{name:<16} {without:>10,.{places}f}{unit} {with_:>10,.{places}f}{unit}"
            f" {' '.join(f'{r:.2f}' for r in each):>18} {statistics.median(each):>7.2f}"
        )


def _messages(unique: bool, count: int) -> list[dict[str, Any]]:
    """The bench's message as collection hands it to the rules (normalised), ``count`` times;
    with ``unique``, its personal values and order id differ from one to the next."""
    envelope = Envelope(received_at=datetime.now(UTC), ip="198.51.100.7")
    messages = []
    for n in range(count):
        text = json.dumps(MESSAGE).replace("@USER@", f"u{n}").replace("@MESSAGE@", f"m{n}")
        if unique:
            for value, varied in (
                ("o-1001", f"o-{100_000 + n}"),
                ("at the door", f"at door {n}"),
                ("+351912345678", f"+351{912_000_000 + n}"),
            ):
                text = text.replace(value, varied)
        event = normalise(json.loads(text), index=0, route_type=None, envelope=envelope)
        messages.append(event.payload)  # type: ignore[arg-type]
    return messages


def _module_at(ref: str) -> ModuleType:
    """``headwater.pii.rules`` as it is at git ``ref``, loaded beside the current one."""
    source = subprocess.run(
        ["git", "show", f"{ref}:src/headwater/pii/rules.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="bench-pii-")) / "rules_at_ref.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("bench_pii_rules_at_ref", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _micro(args: argparse.Namespace) -> None:
    modules = {"current": current_rules}
    if args.compare:
        modules = {args.compare: _module_at(args.compare), **modules}
    for unique, count in ((False, 100), (True, 2_000)):
        messages = _messages(unique, count)
        appliers: dict[str, Callable[[dict[str, Any]], Any]] = {}
        answers = {}
        for name, module in modules.items():
            compiled = module.compile_rules(
                [module.Rule(id=n, **rule) for n, rule in enumerate(RULES[:9], 1)]
            )
            appliers[name] = lambda m, module=module, compiled=compiled: module.apply(
                compiled, m, salt=b"bench-salt"
            )
            answers[name] = [(o.payload, o.blocked) for o in map(appliers[name], messages)]
        assert all(a == next(iter(answers.values())) for a in answers.values()), "outcomes differ"
        # Timed by slices of 100 messages, each slice's best of many turns (a short turn is
        # often left alone by the rest of a busy machine); unique values: 2,000 of them go
        # round, more than any cache of verdicts keeps.
        chunks = [messages[n : n + 100] for n in range(0, count, 100)]
        best = {name: [float("inf")] * len(chunks) for name in appliers}
        for _ in range(args.turns):
            for index, chunk in enumerate(chunks):
                for name, applier in appliers.items():  # interleaved: both see the same noise
                    started = time.perf_counter()
                    for message in chunk:
                        applier(message)
                    took = (time.perf_counter() - started) / len(chunk) * 1e6
                    best[name][index] = min(best[name][index], took)
        label = "unique values" if unique else "repeated values"
        shown = ", ".join(f"{name} {statistics.mean(b):.1f} µs" for name, b in best.items())
        print(f"apply, 9 rules, {label}: {shown} an event", flush=True)


def _path(turns: int) -> None:
    """What the rules add to collection's Python path per event (decoding, normalising,
    encoding for storage), messages decoded afresh as the server does."""
    compiled = current_rules.compile_rules(
        [current_rules.Rule(id=n, **rule) for n, rule in enumerate(RULES[:9], 1)]
    )
    rules = pii.Applicable(compiled, b"bench-salt")
    metrics = Metrics().of(pii.PiiMetrics)
    envelope = Envelope(received_at=datetime.now(UTC), ip="198.51.100.7")
    bodies = [
        json.dumps(MESSAGE).replace("@USER@", f"u{n}").replace("@MESSAGE@", f"m{n}").encode()
        for n in range(100)
    ]

    def collect(with_rules: bool) -> None:
        tally = pii.Tally()
        for body in bodies:
            event = normalise(
                msgspec.json.decode(body), index=0, route_type=None, envelope=envelope
            )
            if with_rules:
                event = _governed(event, rules, tally)
            encode_payload(event.payload)
        if with_rules:
            tally.record(metrics, "collection")  # once a request, as the collector does

    best = {False: float("inf"), True: float("inf")}
    for _ in range(turns):
        for with_rules in best:
            started = time.perf_counter()
            collect(with_rules)
            best[with_rules] = min(best[with_rules], (time.perf_counter() - started) / 100 * 1e6)
    print(
        f"collection's Python path (decode, normalise, encode): {best[False]:.1f} µs an event"
        f" without rules, {best[True]:.1f} µs with the 9 rules"
        f" (+{best[True] - best[False]:.1f} µs)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--load-processes", type=int, default=1)
    parser.add_argument(
        "--rate",
        type=float,
        default=5_000,
        help="events/s of the fixed-rate phase (batches of 100; 0: none)",
    )
    parser.add_argument(
        "--processor", choices=("on", "off"), default="on", help="off: collection alone"
    )
    parser.add_argument("--micro", action="store_true", help="apply alone, in this process")
    parser.add_argument("--compare", metavar="REF", help="with --micro: git REF's rules too")
    parser.add_argument("--turns", type=int, default=200, help="with --micro: turns timed")
    args = parser.parse_args()
    if args.micro:
        _micro(args)
        _path(args.turns)
    else:
        _serve(args)


if __name__ == "__main__":
    main()
