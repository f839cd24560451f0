"""Journeys running in a real ``headwater serve``: profiles enter on their events, wait, branch,
leave by exit rules, and messages reach a destination exactly once, across restarts and live
edits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.destinations.sink import Recorded, Reply, Sink
from tests.server import RunningServer

BASE = "/api/v1/workspaces/default"


def _send(server: RunningServer, *messages: dict[str, Any]) -> None:
    response = httpx.post(
        f"{server.url}/v1/batch", json={"batch": list(messages)}, auth=(server.write_key, "")
    )
    assert response.status_code == 200, response.text


def _track(user: str, event: str, **properties: Any) -> dict[str, Any]:
    return {"type": "track", "userId": user, "event": event, "properties": properties}


def _journey(server: RunningServer, key: str, document: dict[str, Any]) -> None:
    server.api("POST", f"{BASE}/journeys", json={"key": key, "name": key, "document": document})
    server.api("POST", f"{BASE}/journeys/{key}/publish")
    # the processor's stage reads live journeys anew every 2 s
    time.sleep(2.5)


def _destination(server: RunningServer, sink: Sink) -> int:
    made = server.api(
        "POST",
        f"{BASE}/destinations",
        json={"name": "messages", "kind": "webhook", "config": {"url": sink.url}},
    )
    return int(made["id"])


async def _instances(engine: AsyncEngine) -> dict[str, dict[str, Any]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT i.id, i.state, i.node_id, i.end_reason, i.converted_at, i.version,"
                " (SELECT value FROM identifiers d WHERE d.profile_id = i.profile_id"
                "  AND d.type = 'user_id') AS user_id FROM journey_instances i ORDER BY i.id"
            )
        )
        return {row.user_id: dict(row._mapping) for row in rows}


async def _sent(sink: Sink, count: int) -> None:
    """Until the sink has ``count`` journey messages."""

    async def enough() -> bool:
        return sum(len(v) for v in _by_user(sink.requests).values()) >= count

    await _until(enough, f"{count} journey messages")


async def _until(probe: Callable[[], Any], what: str, within: float = 30) -> Any:
    deadline = time.monotonic() + within
    while True:
        found = await probe()
        if found:
            return found
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.2)


def _by_user(requests: list[Recorded]) -> dict[str, list[str]]:
    """The journeys' messages each user was sent (the destination gets every event too)."""
    found: dict[str, list[str]] = {}
    for request in requests:
        body = request.json()
        if "journey" in body.get("context", {}):
            found.setdefault(body["userId"], []).append(body["event"])
    return found


async def test_profiles_enter_wait_branch_and_leave_with_messages_sent_once(
    server: RunningServer, engine: AsyncEngine
) -> None:
    with Sink() as sink:
        hook = _destination(server, sink)
        _journey(
            server,
            "welcome",
            {
                "version": 1,
                "trigger": {"type": "event", "event": "Signed Up"},
                "exits": [{"event": "Unsubscribed"}],
                "goal": {"event": "Order Completed", "within": {"days": 1}},
                "start": "wait",
                "nodes": {
                    "wait": {
                        "type": "wait_event",
                        "config": {
                            "events": [{"port": "bought", "event": "Order Completed"}],
                            "timeout": {"seconds": 3},
                        },
                        "next": {"bought": "thanks", "timeout": "remind"},
                    },
                    "thanks": {
                        "type": "send",
                        "config": {
                            "destination": hook,
                            "event": "Thanks",
                            "properties": {
                                "greeting": "Thank you, {{ traits.name }}!",
                                "plan": "{{ event.plan }}",
                            },
                        },
                        "next": {"out": "done"},
                    },
                    "remind": {
                        "type": "send",
                        "config": {"destination": hook, "event": "Reminder"},
                        "next": {"out": "done"},
                    },
                    "done": {"type": "exit"},
                },
            },
        )
        _send(
            server,
            {"type": "identify", "userId": "ada", "traits": {"name": "Ada"}},
            _track("ada", "Signed Up", plan="pro"),
            _track("bo", "Signed Up"),
            _track("cy", "Signed Up"),
        )

        async def waiting() -> bool:
            found = await _instances(engine)
            return len(found) == 3 and all(i["state"] == "waiting" for i in found.values())

        await _until(waiting, "the three wait for an order")
        _send(server, _track("ada", "Order Completed"), _track("cy", "Unsubscribed"))
        _send(server, _track("ada", "Signed Up"))  # once per profile: not again
        await _sent(sink, 2)
        await asyncio.sleep(2)  # nothing more comes, nothing twice
        assert _by_user(sink.requests) == {"ada": ["Thanks"], "bo": ["Reminder"]}
        thanks = next(r.json() for r in sink.requests if r.json().get("event") == "Thanks")
        assert thanks["properties"] == {"greeting": "Thank you, Ada!", "plan": "pro"}
        assert thanks["messageId"].startswith("hwj-")
        found = await _instances(engine)
        assert {user: (i["state"], i["end_reason"]) for user, i in found.items()} == {
            "ada": ("completed", "exit"),
            "bo": ("completed", "exit"),
            "cy": ("exited", "exit_event"),
        }
        assert found["ada"]["converted_at"] is not None
        assert found["bo"]["converted_at"] is None

        stats = server.api("GET", f"{BASE}/journeys/welcome/stats")
        assert (stats["entered"], stats["completed"], stats["converted"]) == (3, 2, 1)
        assert stats["exited"] == {"exit_event": 1}
        wait = stats["nodes"]["wait"]
        assert (wait["entered"], wait["here"], wait["ports"]) == (2, 0, {"bought": 1, "timeout": 1})
        assert wait["seconds_p50"] is not None
        assert stats["nodes"]["done"]["entered"] == 2
        [ada] = server.api("GET", f"{BASE}/profiles", params={"identifier": "user_id:ada"})
        [way] = server.api("GET", f"{BASE}/profiles/{ada['id']}/journeys")
        assert (way["journey"], way["state"], way["end_reason"]) == ("welcome", "completed", "exit")
        assert [(s["node"], s["port"]) for s in way["steps"]] == [
            ("wait", "bought"),
            ("thanks", "out"),
            ("done", None),
        ]
        assert way["steps"][1]["detail"] == f"queued for destination {hook}"


async def test_a_timer_due_while_headwater_was_down_fires_on_restart(
    server: RunningServer, engine: AsyncEngine
) -> None:
    with Sink() as sink:
        hook = _destination(server, sink)
        _journey(
            server,
            "later",
            {
                "version": 1,
                "trigger": {"type": "event", "event": "Signed Up"},
                "start": "delay",
                "nodes": {
                    "delay": {
                        "type": "delay",
                        "config": {"duration": {"seconds": 3}},
                        "next": {"out": "mail"},
                    },
                    "mail": {
                        "type": "send",
                        "config": {"destination": hook, "event": "Hello"},
                        "next": {"out": "done"},
                    },
                    "done": {"type": "exit"},
                },
            },
        )
        _send(server, _track("ada", "Signed Up"))

        async def delayed() -> bool:
            found = await _instances(engine)
            return found.get("ada", {}).get("state") == "waiting"

        await _until(delayed, "ada waits in the delay")
        server.kill()
        await asyncio.sleep(4)  # the delay ends while nothing runs
        server.restart()
        await _sent(sink, 1)
        await asyncio.sleep(1.5)
        assert _by_user(sink.requests) == {"ada": ["Hello"]}
        assert (await _instances(engine))["ada"]["state"] == "completed"


async def test_a_live_edit_moves_waiting_profiles_on_by_node_id(
    server: RunningServer, engine: AsyncEngine
) -> None:
    with Sink() as sink:
        hook = _destination(server, sink)
        first: dict[str, Any] = {
            "version": 1,
            "trigger": {"type": "event", "event": "Signed Up"},
            "start": "long",
            "nodes": {
                "long": {
                    "type": "delay",
                    "config": {"duration": {"days": 3}},
                    "next": {"out": "mail"},
                },
                "mail": {
                    "type": "send",
                    "config": {"destination": hook, "event": "Hello"},
                    "next": {"out": "done"},
                },
                "done": {"type": "exit"},
            },
        }
        _journey(server, "edited", first)
        _send(server, _track("ada", "Signed Up"), _track("bo", "Signed Up"))

        async def waiting() -> bool:
            found = await _instances(engine)
            return len(found) == 2 and all(i["state"] == "waiting" for i in found.values())

        await _until(waiting, "both wait three days")
        # shorter: recomputed from when the wait began, so it ends at once
        shorter = {**first, "nodes": {**first["nodes"]}}
        shorter["nodes"]["long"] = {
            **first["nodes"]["long"],
            "config": {"duration": {"seconds": 1}},
        }
        journey = server.api("GET", f"{BASE}/journeys/edited")
        server.api(
            "PUT",
            f"{BASE}/journeys/edited/draft",
            json={"revision": journey["revision"], "document": shorter},
        )
        published = server.api("POST", f"{BASE}/journeys/edited/publish")
        assert published["version"] == 2
        await _sent(sink, 2)
        await asyncio.sleep(1.5)
        assert _by_user(sink.requests) == {"ada": ["Hello"], "bo": ["Hello"]}
        assert {i["version"] for i in (await _instances(engine)).values()} == {2}


async def test_a_split_and_a_destination_that_is_gone(
    server: RunningServer, engine: AsyncEngine
) -> None:
    with Sink() as sink:
        hook = _destination(server, sink)
        _journey(
            server,
            "plans",
            {
                "version": 1,
                "trigger": {"type": "event", "event": "Signed Up"},
                "start": "split",
                "nodes": {
                    "split": {
                        "type": "split",
                        "config": {
                            "branches": [
                                {
                                    "port": "pro",
                                    "condition": {
                                        "type": "trait",
                                        "trait": "plan",
                                        "operator": "equals",
                                        "value": "pro",
                                    },
                                }
                            ]
                        },
                        "next": {"pro": "pro_mail", "else": "gone"},
                    },
                    "pro_mail": {
                        "type": "send",
                        "config": {"destination": hook, "event": "Pro tips"},
                        "next": {"out": "done"},
                    },
                    "gone": {
                        "type": "send",
                        "config": {"destination": 999999, "event": "Lost"},
                        "next": {"out": "done"},
                    },
                    "done": {"type": "exit"},
                },
            },
        )
        _send(
            server,
            {"type": "identify", "userId": "ada", "traits": {"plan": "pro"}},
            {"type": "identify", "userId": "bo", "traits": {"plan": "free"}},
        )
        await asyncio.sleep(1)  # the traits are stored before the journey's events
        _send(server, _track("ada", "Signed Up"), _track("bo", "Signed Up"))
        await _sent(sink, 1)

        async def ended() -> dict[str, Any] | None:
            found = await _instances(engine)
            done = len(found) == 2 and all(i["state"] != "active" for i in found.values())
            return found if done else None

        found = await _until(ended, "both went their way")
        assert _by_user(sink.requests) == {"ada": ["Pro tips"]}
        assert (found["ada"]["state"], found["bo"]["state"]) == ("completed", "failed")
        async with engine.connect() as connection:
            error = await connection.scalar(
                text("SELECT error FROM journey_instances WHERE state = 'failed'")
            )
        assert error == "destination 999999 is deleted or disabled"


async def test_profiles_started_by_hand(server: RunningServer, engine: AsyncEngine) -> None:
    with Sink() as sink:
        hook = _destination(server, sink)
        _journey(
            server,
            "by-hand",
            {
                "version": 1,
                "trigger": {"type": "manual"},
                "start": "mail",
                "nodes": {
                    "mail": {
                        "type": "send",
                        "config": {"destination": hook, "event": "Hello"},
                        "next": {"out": "done"},
                    },
                    "done": {"type": "exit"},
                },
            },
        )
        _send(server, {"type": "identify", "userId": "ada", "traits": {"name": "Ada"}})

        async def profile() -> Any:
            found = server.api("GET", f"{BASE}/profiles", params={"identifier": "user_id:ada"})
            return found[0]["id"] if found else None

        ada = await _until(profile, "ada's profile")
        body = {"profile_ids": [ada, "prf_nobody"], "start_id": "campaign-1"}
        started = server.api("POST", f"{BASE}/journeys/by-hand/start", json=body)
        assert started == {
            "entered": 1,
            "skipped": [{"profile_id": "prf_nobody", "reason": "no such profile"}],
        }
        again = server.api("POST", f"{BASE}/journeys/by-hand/start", json=body)
        assert again["entered"] == 0  # the same start: nobody twice
        assert again["skipped"] == [
            {"profile_id": ada, "reason": "the entry rule keeps it out"},
            {"profile_id": "prf_nobody", "reason": "no such profile"},
        ]
        await _sent(sink, 1)
        assert _by_user(sink.requests) == {"ada": ["Hello"]}
        server.api("POST", f"{BASE}/journeys/by-hand/pause")
        with server.admin() as client:
            paused = client.post(f"{BASE}/journeys/by-hand/start", json=body)
        assert paused.status_code == 409
        assert paused.json()["code"] == "invalid_state"


async def test_a_webhook_is_called_once_retried_and_its_failure_takes_the_error_port(
    server: RunningServer, engine: AsyncEngine
) -> None:
    answers = {"ada": [200], "bo": [503, 200], "cy": [400]}

    def answer(request: Recorded) -> Reply:
        user = request.json()["profile"]["traits"]["name"]
        status = answers[user].pop(0) if len(answers[user]) > 1 else answers[user][0]
        return Reply(status, {"ok": status == 200})

    with Sink(answer) as calls, Sink() as messages:
        hook = _destination(server, messages)
        _journey(
            server,
            "hooked",
            {
                "version": 1,
                "trigger": {"type": "event", "event": "Signed Up"},
                "start": "call",
                "nodes": {
                    "call": {
                        "type": "webhook",
                        "config": {
                            "url": calls.url + "/welcome",
                            "headers": {"X-Campaign": "spring"},
                        },
                        "next": {"out": "done", "error": "fallback"},
                    },
                    "fallback": {
                        "type": "send",
                        "config": {"destination": hook, "event": "Webhook failed"},
                        "next": {"out": "done"},
                    },
                    "done": {"type": "exit"},
                },
            },
        )
        for user in answers:
            _send(
                server,
                {"type": "identify", "userId": user, "traits": {"name": user}},
                _track(user, "Signed Up", plan="pro"),
            )
        await _sent(messages, 1)

        async def settled() -> dict[str, Any] | None:
            found = await _instances(engine)
            done = len(found) == 3 and all(i["state"] == "completed" for i in found.values())
            return found if done else None

        await _until(settled, "the three went on", within=40)
        await asyncio.sleep(1)
        by_user: dict[str, list[Recorded]] = {}
        for request in calls.requests:
            by_user.setdefault(request.json()["profile"]["traits"]["name"], []).append(request)
        assert {user: len(found) for user, found in by_user.items()} == {"ada": 1, "bo": 2, "cy": 1}
        first = by_user["ada"][0]
        assert first.path == "/welcome"
        assert first.headers["x-campaign"] == "spring"
        assert first.headers["idempotency-key"].startswith("hwj-")
        assert first.json()["event"] == {"plan": "pro"}
        assert first.json()["journey"]["node"] == "call"
        retried = {r.headers["idempotency-key"] for r in by_user["bo"]}
        assert len(retried) == 1  # the same key: the receiver may drop a repeat
        assert _by_user(messages.requests) == {"cy": ["Webhook failed"]}
        async with engine.connect() as connection:
            details = dict(
                (
                    await connection.execute(
                        text(
                            "SELECT (SELECT value FROM identifiers d WHERE d.profile_id ="
                            " i.profile_id AND d.type = 'user_id'), s.detail FROM journey_steps s"
                            " JOIN journey_instances i ON i.id = s.instance_id"
                            " WHERE s.node_id = 'call'"
                        )
                    )
                ).all()
            )
        assert details["ada"] == "HTTP 200"
        assert details["bo"] == "HTTP 200 (attempt 2)"
        assert details["cy"].startswith("HTTP 400")


async def test_traits_set_by_a_journey_are_the_profile_s(
    server: RunningServer, engine: AsyncEngine
) -> None:
    updates = [
        {"op": "set", "trait": "plan", "value": "trial"},
        {"op": "increment", "trait": "visits", "value": 1},
        {"op": "set_once", "trait": "source", "value": "journey"},
        {"op": "append", "trait": "tags", "value": "welcomed"},
        {"op": "unset", "trait": "coupon"},
    ]
    _journey(
        server,
        "traits",
        {
            "version": 1,
            "trigger": {"type": "event", "event": "Signed Up"},
            "start": "set",
            "nodes": {
                "set": {
                    "type": "update_traits",
                    "config": {"updates": updates},
                    "next": {"out": "done"},
                },
                "done": {"type": "exit"},
            },
        },
    )
    traits = {"visits": 2, "source": "ads", "tags": ["new"], "coupon": "X1", "plan": "free"}
    _send(server, {"type": "identify", "userId": "ada", "traits": traits})
    await asyncio.sleep(1)
    _send(server, _track("ada", "Signed Up"))

    async def updated() -> Any:
        found = server.api("GET", f"{BASE}/profiles", params={"identifier": "user_id:ada"})
        if not found:
            return None
        profile = server.api("GET", f"{BASE}/profiles/{found[0]['id']}")
        plan = profile["traits"].get("plan", {})
        return profile if plan.get("value") == "trial" else None

    profile = await _until(updated, "the journey's traits on ada's profile")
    assert {k: profile["traits"][k]["value"] for k in traits} == {
        "visits": 3,
        "source": "ads",
        "tags": ["new", "welcomed"],
        "coupon": None,
        "plan": "trial",
    }
    events = server.api("GET", f"{BASE}/profiles/{profile['id']}/events")
    journey_calls = [e for e in events["events"] if "journey" in e["message"].get("context", {})]
    assert [e["message"]["type"] for e in journey_calls] == ["identify"]
    [way] = server.api("GET", f"{BASE}/profiles/{profile['id']}/journeys")
    assert way["steps"][0]["detail"] == "set coupon, plan, tags, visits"  # source was set
    assert profile["traits"]["plan"]["message_id"].startswith("hwj-")


async def test_a_wait_until_a_condition_holds(server: RunningServer, engine: AsyncEngine) -> None:
    with Sink() as sink:
        hook = _destination(server, sink)
        pro = {"type": "trait", "trait": "plan", "operator": "equals", "value": "pro"}
        _journey(
            server,
            "upgrade",
            {
                "version": 1,
                "trigger": {"type": "event", "event": "Signed Up"},
                "start": "until",
                "nodes": {
                    "until": {
                        "type": "wait_condition",
                        "config": {"condition": pro, "timeout": {"seconds": 4}},
                        "next": {"met": "welcome", "timeout": "nudge"},
                    },
                    "welcome": {
                        "type": "send",
                        "config": {"destination": hook, "event": "Welcome to Pro"},
                        "next": {"out": "done"},
                    },
                    "nudge": {
                        "type": "send",
                        "config": {"destination": hook, "event": "Still free"},
                        "next": {"out": "done"},
                    },
                    "done": {"type": "exit"},
                },
            },
        )
        _send(server, {"type": "identify", "userId": "cy", "traits": {"plan": "pro"}})
        await asyncio.sleep(1)
        _send(
            server, _track("ada", "Signed Up"), _track("bo", "Signed Up"), _track("cy", "Signed Up")
        )

        async def waiting() -> bool:
            found = await _instances(engine)
            return found.get("ada", {}).get("state") == "waiting"

        await _until(waiting, "ada waits to be pro")
        _send(server, {"type": "identify", "userId": "ada", "traits": {"plan": "pro"}})
        await _sent(sink, 3)
        await asyncio.sleep(1)
        assert _by_user(sink.requests) == {
            "ada": ["Welcome to Pro"],  # woken by the identify that made it true
            "bo": ["Still free"],  # never: the timeout
            "cy": ["Welcome to Pro"],  # true on arrival
        }


def _mail_journey(trigger: dict[str, Any], hook: int, event: str, **more: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "trigger": trigger,
        "start": "mail",
        "nodes": {
            "mail": {
                "type": "send",
                "config": {"destination": hook, "event": event},
                "next": {"out": "done"},
            },
            "done": {"type": "exit"},
        },
        **more,
    }


async def test_audience_changes_and_schedules_start_journeys(
    server: RunningServer, engine: AsyncEngine
) -> None:
    pro = {"type": "trait", "trait": "plan", "operator": "equals", "value": "pro"}
    server.api(
        "POST",
        f"{BASE}/audiences",
        json={"key": "pros", "name": "Pros", "definition": {"version": 1, "condition": pro}},
    )
    with Sink() as sink:
        hook = _destination(server, sink)
        entered = {"type": "audience_entered", "audience": "pros"}
        exited = {"type": "audience_exited", "audience": "pros"}
        every = {"type": "schedule", "audience": "pros", "every": {"seconds": 2}}
        server.api(
            "POST",
            f"{BASE}/journeys",
            json={"key": "in", "name": "In", "document": _mail_journey(entered, hook, "Hi pro")},
        )
        server.api(
            "POST",
            f"{BASE}/journeys",
            json={"key": "out", "name": "Out", "document": _mail_journey(exited, hook, "Bye pro")},
        )
        digest = _mail_journey(every, hook, "Digest", entry={"mode": "every_time"})
        server.api("POST", f"{BASE}/journeys", json={"key": "d", "name": "D", "document": digest})
        for key in ("in", "out", "d"):
            server.api("POST", f"{BASE}/journeys/{key}/publish")
        _send(
            server,
            {"type": "identify", "userId": "ada", "traits": {"plan": "pro"}},
            {"type": "identify", "userId": "bo", "traits": {"plan": "free"}},
        )

        async def digests() -> bool:
            return _by_user(sink.requests).get("ada", []).count("Digest") >= 2

        await _until(digests, "ada gets a digest on each run", within=40)
        _send(server, {"type": "identify", "userId": "ada", "traits": {"plan": "free"}})

        async def left() -> bool:
            return "Bye pro" in _by_user(sink.requests).get("ada", [])

        await _until(left, "ada leaves the audience")
        sent = _by_user(sink.requests)
        assert set(sent) == {"ada"}  # bo was never a pro
        assert sent["ada"].count("Hi pro") == 1
        assert sent["ada"].count("Bye pro") == 1
