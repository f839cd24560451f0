"""Two ``headwater worker`` processes run a journey's waits and sends; each is killed with
SIGKILL in the middle of them. After the restart every instance continues: each takes every
node of its path once, in order, and each message and webhook call of an instance reaches its
receiver under one id (a request in flight at a kill may arrive again, under the same id, for
the receiver to drop: that is what the ids are for)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.destinations.sink import Recorded, Reply, Sink
from tests.profiles.test_races import scalar, send
from tests.server import COLLECT_ONLY, RunningServer, Worker, start_server

PEOPLE = 300
BASE = "/api/v1/workspaces/default"
PATH = ["welcome", "pause", "wait", "call", "follow_up", "done"]
ENDED = "SELECT count(*) FROM journey_instances WHERE state <> 'active' AND state <> 'waiting'"


def _journey(destination: int, calls: str) -> dict[str, Any]:
    def send(event: str, then: str) -> dict[str, Any]:
        config = {"destination": destination, "event": event}
        return {"type": "send", "config": config, "next": {"out": then}}

    return {
        "version": 1,
        "trigger": {"type": "event", "event": "Signed Up"},
        "start": "welcome",
        "nodes": {
            "welcome": send("Welcome", "pause"),
            "pause": {
                "type": "delay",
                "config": {"duration": {"seconds": 1}},
                "next": {"out": "wait"},
            },
            "wait": {
                "type": "wait_event",
                "config": {
                    "events": [{"port": "bought", "event": "Order Completed"}],
                    "timeout": {"seconds": 15},
                },
                "next": {"bought": "call", "timeout": "call"},
            },
            "call": {"type": "webhook", "config": {"url": calls}, "next": {"out": "follow_up"}},
            "follow_up": send("Follow Up", "done"),
            "done": {"type": "exit"},
        },
    }


async def _until(engine: AsyncEngine, sql: str, at_least: int, within: float) -> int:
    deadline = time.monotonic() + within
    while (found := int(await scalar(engine, sql))) < at_least:
        assert time.monotonic() < deadline, f"{sql!r}: {found} after {within}s, not {at_least}"
        await asyncio.sleep(0.05)
    return found


def _bodies(requests: list[Recorded]) -> list[tuple[Recorded, Any]]:
    """The requests that arrived whole, with their JSON bodies (a kill may cut one short)."""
    found = []
    for request in requests:
        try:
            found.append((request, request.json()))
        except ValueError:
            continue
    return found


def _journey_messages(requests: list[Recorded]) -> dict[tuple[str, str], set[str]]:
    """(user, event) -> the message ids the destination received (it gets every event too)."""
    found: dict[tuple[str, str], set[str]] = {}
    for _, body in _bodies(requests):
        if "journey" in body.get("context", {}):
            found.setdefault((body["userId"], body["event"]), set()).add(body["messageId"])
    return found


async def test_workers_killed_mid_waits_and_sends_lose_nothing_and_repeat_nothing(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    server = start_server(database_url, tmp_path, extra_env=COLLECT_ONLY)
    workers: list[Worker] = []

    def worker(name: str) -> Worker:
        workers.append(Worker(database_url, tmp_path / f"{name}.log"))
        return workers[-1]

    slow = Sink(lambda _: Reply(200, {"ok": True}, delay=0.2))
    with Sink() as messages, slow as calls:
        try:
            await _run(server, engine, messages, calls, worker)
        finally:
            for each in workers:
                each.stop()
            server.stop()
        assert not messages.errors
        assert not calls.errors


async def _run(
    server: RunningServer,
    engine: AsyncEngine,
    messages: Sink,
    calls: Sink,
    worker: Callable[[str], Worker],
) -> None:
    hook = server.api(
        "POST",
        f"{BASE}/destinations",
        json={"name": "messages", "kind": "webhook", "config": {"url": messages.url}},
    )
    document = _journey(int(hook["id"]), calls.url + "/hook")
    server.api("POST", f"{BASE}/journeys", json={"key": "j", "name": "J", "document": document})
    server.api("POST", f"{BASE}/journeys/j/publish")
    first, second = worker("first"), worker("second")

    send(server, [_track(n, "Signed Up") for n in range(PEOPLE)], prefix="signup")
    # The first kill: while welcomes are being queued and delays run out.
    sent = await _until(engine, "SELECT count(*) FROM journey_steps", 20, within=60)
    first.kill()
    done = int(await scalar(engine, "SELECT count(*) FROM journey_steps"))
    assert done < PEOPLE * len(PATH), f"the first kill came too late ({sent}, {done})"

    # Everyone waits for an order; half of those waiting order.
    waiting = "SELECT count(*) FROM journey_instances WHERE node_id = 'wait'"
    await _until(engine, waiting, PEOPLE // 2, within=60)
    buyers = await _waiting_users(engine)
    send(server, [_track(int(u[1:]), "Order Completed") for u in buyers[::2]], prefix="order")
    # The second kill: once orders woke some (the first worker's log partitions wait for its
    # lease to end), with webhook calls in flight (the receiver takes 0.2 s to answer).
    woken = "SELECT count(*) FROM journey_steps WHERE port = 'bought'"
    await _until(engine, woken, 1, within=30)
    await asyncio.to_thread(calls.wait_for, 10, 60)
    second.kill()
    assert len(calls.requests) < PEOPLE, "the second kill came too late"
    worker("third")
    worker("fourth")
    # The dead workers' log partitions are free again once their leases end (15 s).
    await _until(engine, ENDED, PEOPLE, within=120)
    for _ in range(300):  # a minute for the delivery engine to send what the last steps queued
        if len(_journey_messages(messages.requests)) == 2 * PEOPLE:
            break
        await asyncio.sleep(0.2)
    await _check(engine, messages, calls, set(buyers[::2]))


def _track(n: int, event: str) -> dict[str, Any]:
    return {"type": "track", "userId": f"u{n}", "event": event}


async def _waiting_users(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.exec_driver_sql(
            "SELECT d.value FROM journey_instances i JOIN identifiers d"
            " ON d.profile_id = i.profile_id AND d.type = 'user_id'"
            " WHERE i.node_id = 'wait' AND i.state = 'waiting' ORDER BY d.value"
        )
        return [row[0] for row in rows]


async def _check(engine: AsyncEngine, messages: Sink, calls: Sink, ordered: set[str]) -> None:
    async with engine.connect() as connection:
        ends = (
            await connection.exec_driver_sql(
                "SELECT state, end_reason, count(*) FROM journey_instances GROUP BY 1, 2"
            )
        ).all()
        rows = (
            await connection.exec_driver_sql(
                "SELECT d.value, s.step, s.node_id, s.port FROM journey_steps s"
                " JOIN journey_instances i ON i.id = s.instance_id"
                " JOIN identifiers d ON d.profile_id = i.profile_id AND d.type = 'user_id'"
                " ORDER BY d.value, s.step"
            )
        ).all()
    assert [tuple(row) for row in ends] == [("completed", "exit", PEOPLE)]
    paths: dict[str, list[str]] = {}
    ports: dict[str, str] = {}
    for user, step, node, port in rows:
        assert step == len(paths.setdefault(user, [])), f"{user}: step {step} twice or skipped"
        paths[user].append(node)
        if node == "wait":
            ports[user] = port
    assert len(paths) == PEOPLE
    assert all(path == PATH for path in paths.values()), "a node skipped or taken twice"
    bought = {user for user, port in ports.items() if port == "bought"}
    assert bought
    assert bought <= ordered

    received = _journey_messages(messages.requests)
    expected = {(f"u{n}", event) for n in range(PEOPLE) for event in ("Welcome", "Follow Up")}
    assert set(received) == expected
    assert all(len(ids) == 1 for ids in received.values()), "an instance sent twice"
    keys: dict[str, set[str]] = {}
    for request, body in _bodies(calls.requests):
        keys.setdefault(body["profile"]["id"], set()).add(request.headers["idempotency-key"])
    assert len(keys) == PEOPLE
    assert all(len(found) == 1 for found in keys.values()), "a webhook called twice"
