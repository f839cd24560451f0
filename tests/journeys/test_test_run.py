"""The test run: a sample walked through a journey with the runner's rules on a virtual clock,
each node type's simulated behaviour, the entry rules' refusals with their reasons, secrets
masked in a webhook's request; then through a running server, that it stores, queues and sends
nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.audiences.evaluate import EventData
from headwater.journeys import parse_journey
from headwater.journeys.semantics import Entered, cohort
from headwater.journeys.simulation import (
    MAX_STEPS,
    Later,
    Sample,
    Setting,
    masked_request,
    simulate,
)
from tests.cli.conftest import cli_for
from tests.destinations.sink import Sink
from tests.profiles.test_races import wait_for
from tests.server import RunningServer

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SIGNED_UP = EventData("m0", "track", "Signed Up", START, {"plan": "pro"})


def _document(nodes: dict[str, Any], start: str = "a", **more: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "trigger": {"type": "event", "event": "Signed Up"},
        "start": start,
        "nodes": nodes,
        **more,
    }


def _sample(**changes: Any) -> Sample:
    values: dict[str, Any] = {
        "profile_id": "prf_1",
        "traits": {"first_name": "Ada", "vip": True},
        "computed": {},
        "audiences": frozenset(),
        "events": [],
        "identity": {"userId": "u1"},
        "trigger": SIGNED_UP,
    }
    return Sample(**{**values, **changes})


def _run(document: dict[str, Any], sample: Sample | None = None, **setting: Any) -> Any:
    values: dict[str, Any] = {"journey_id": 7, "version": 0, "destinations": {3: "CRM"}}
    return simulate(
        parse_journey(document), sample or _sample(), Setting(start=START, **{**values, **setting})
    )


def _later(hours: float, name: str, **properties: Any) -> Later:
    after = timedelta(hours=hours)
    return Later(after, EventData(f"m-{name}", "track", name, START + after, properties))


def _path(run: Any) -> list[tuple[str, str | None]]:
    return [(step["node"], step["port"]) for step in run["steps"]]


EXIT = {"type": "exit"}


def test_a_delay_moves_the_virtual_clock_and_a_wait_is_woken_by_a_later_event() -> None:
    document = _document(
        {
            "a": {"type": "delay", "config": {"duration": {"days": 1}}, "next": {"out": "w"}},
            "w": {
                "type": "wait_event",
                "label": "Wait for an order",
                "config": {
                    "events": [{"port": "bought", "event": "Order Completed"}],
                    "timeout": {"days": 3},
                },
                "next": {"bought": "z", "timeout": "z"},
            },
            "z": EXIT,
        }
    )
    run = _run(document, _sample(later=[_later(26, "Order Completed")]))
    assert run["entered"]
    assert run["state"] == "completed"
    assert _path(run) == [("a", "out"), ("w", "bought"), ("z", None)]
    delay, wait, _ = run["steps"]
    assert delay["why"] == "waited 1 day (duration)"
    assert delay["elapsed"] == 86_400
    assert wait["why"] == "event 'Order Completed' at +1 day 2 hours"
    assert wait["elapsed"] == 26 * 3600
    assert wait["label"] == "Wait for an order"
    assert (
        run["events"][0]["outcome"] == "moved the profile on from 'Wait for an order' by 'bought'"
    )
    # without the order, the wait times out three days after it began
    alone = _run(document)
    assert _path(alone)[1] == ("w", "timeout")
    assert alone["steps"][1]["why"].startswith("timed out after 3 days")
    assert alone["steps"][1]["elapsed"] == 4 * 86_400


def test_an_event_before_the_wait_began_does_not_wake_it() -> None:
    document = _document(
        {
            "a": {"type": "delay", "config": {"duration": {"hours": 2}}, "next": {"out": "w"}},
            "w": {
                "type": "wait_event",
                "config": {
                    "events": [{"port": "bought", "event": "Order Completed"}],
                    "timeout": {"hours": 5},
                },
                "next": {"bought": "z", "timeout": "z"},
            },
            "z": EXIT,
        }
    )
    run = _run(document, _sample(later=[_later(1, "Order Completed")]))
    assert _path(run)[1] == ("w", "timeout")
    assert "nothing waited for it" in run["events"][0]["outcome"]


def test_a_wait_for_a_condition_is_met_on_arrival_or_after_an_identify() -> None:
    condition = {"type": "trait", "trait": "plan", "operator": "equals", "value": "pro"}
    document = _document(
        {
            "a": {
                "type": "wait_condition",
                "config": {"condition": condition, "timeout": {"days": 2}},
                "next": {"met": "z", "timeout": "z"},
            },
            "z": EXIT,
        }
    )
    assert _run(document, _sample(traits={"plan": "pro"}))["steps"][0]["why"] == (
        "the condition held on arrival"
    )
    identify = Later(
        timedelta(hours=3),
        EventData("m-i", "identify", None, START + timedelta(hours=3), {}),
        {"plan": "pro"},
    )
    run = _run(document, _sample(traits={}, later=[identify]))
    assert _path(run)[0] == ("a", "met")
    assert run["steps"][0]["elapsed"] == 3 * 3600
    assert _path(_run(document, _sample(traits={})))[0] == ("a", "timeout")


def test_a_split_takes_the_first_branch_that_holds_and_a_random_split_the_profiles_cohort() -> None:
    vip = {"type": "trait", "trait": "vip", "operator": "equals", "value": True}
    cohorts = {"cohorts": [{"port": "a", "weight": 50}, {"port": "b", "weight": 50}]}
    document = _document(
        {
            "s": {
                "type": "split",
                "config": {"branches": [{"port": "vip", "condition": vip}]},
                "next": {"vip": "r", "else": "z"},
            },
            "r": {"type": "random_split", "config": cohorts, "next": {"a": "z", "b": "z"}},
            "z": EXIT,
        },
        start="s",
    )
    run = _run(document)
    assert run["steps"][0]["why"] == "branch 'vip' matched"
    expected = cohort(
        parse_journey(document).configs["r"], journey_id=7, node_id="r", profile_id="prf_1"
    )
    assert run["steps"][1]["port"] == expected
    assert f"cohort {expected!r} (weight 50 of 100" in run["steps"][1]["why"]
    other = _run(document, _sample(traits={"vip": False}))
    assert other["steps"][0]["port"] == "else"
    assert other["steps"][0]["why"] == "no branch matched: everyone else"


def test_actions_describe_their_effects_and_later_steps_see_the_traits_set() -> None:
    vip = {"type": "trait", "trait": "visits", "operator": "greater_than", "value": 1}
    document = _document(
        {
            "t": {
                "type": "update_traits",
                "config": {"updates": [{"op": "increment", "trait": "visits", "value": 1}]},
                "next": {"out": "s"},
            },
            "s": {
                "type": "split",
                "config": {"branches": [{"port": "again", "condition": vip}]},
                "next": {"again": "m", "else": "z"},
            },
            "m": {
                "type": "send",
                "config": {
                    "destination": 3,
                    "event": "Thanks",
                    "properties": {"hi": "Hi {{ traits.first_name }}", "plan": "{{ event.plan }}"},
                },
                "next": {"out": "l"},
            },
            "l": {
                "type": "list_membership",
                "config": {"action": "add", "audience": "fans"},
                "next": {"out": "z"},
            },
            "z": EXIT,
        },
        start="t",
    )
    run = _run(document, _sample(traits={"first_name": "Ada", "visits": 1}))
    assert _path(run) == [("t", "out"), ("s", "again"), ("m", "out"), ("l", "out"), ("z", None)]
    traits, _, send, listed, _ = (step["effect"] for step in run["steps"])
    assert traits["kind"] == "traits"
    assert traits["payload"]["traits"] == {"visits": 2}
    assert traits["payload"]["type"] == "identify"
    assert traits["payload"]["userId"] == "u1"
    assert send["kind"] == "send"
    assert send["destination"] == 3
    assert send["summary"] == "would queue 'Thanks' for destination 3 (CRM)"
    event = send["payload"]
    assert event["properties"] == {"hi": "Hi Ada", "plan": "pro"}
    assert event["context"]["journey"] == {"id": 7, "version": 0, "node": "m", "instance": "test"}
    assert listed["payload"] == {"action": "add", "audience": "fans"}
    assert "cannot be published" in run["steps"][3]["why"]


def test_a_send_to_a_destination_that_cannot_take_it_fails_by_its_error_port() -> None:
    document = _document(
        {"m": {"type": "send", "config": {"destination": 9, "event": "Thanks"}}}, start="m"
    )
    run = _run(document)
    assert run["state"] == "failed"
    assert _path(run) == [("m", "error")]
    assert run["outcome"] == "it failed: destination 9 is deleted or disabled"
    assert run["steps"][0]["effect"] is None
    nobody = _run(document, _sample(identity={}), destinations={9: "Ads"})
    assert nobody["steps"][0]["why"] == "the profile has no user id or anonymous id to send as"


def test_a_webhook_is_answered_unless_the_run_takes_it_as_failed_and_its_secrets_are_masked() -> (
    None
):
    document = _document(
        {
            "h": {
                "type": "webhook",
                "config": {
                    "url": "https://bot:hunter2@hooks.example/in?api_key=abc&team=7",
                    "headers": {"X-Team": "growth"},
                    "body": {"name": "{{ traits.first_name }}", "token": "{{ traits.token }}"},
                },
                "next": {"out": "z", "error": "z"},
            },
            "z": EXIT,
        },
        start="h",
    )
    run = _run(document, _sample(traits={"first_name": "Ada", "token": "s3cret"}))
    request = run["steps"][0]["effect"]["payload"]
    assert run["steps"][0]["port"] == "out"
    assert request["url"] == "https://bot:%5Bmasked%5D@hooks.example/in?api_key=%5Bmasked%5D&team=7"
    assert request["body"] == {"name": "Ada", "token": "[masked]"}
    assert request["headers"]["X-Team"] == "growth"
    assert request["headers"]["Idempotency-Key"] == "hwj-test-0"
    assert "hunter2" not in str(run)
    assert "s3cret" not in str(run)
    assert "abc" not in str(run)
    failed = _run(document, _sample(failing=frozenset({"h"})))
    assert _path(failed)[0] == ("h", "error")


def test_masking_covers_headers_named_like_credentials() -> None:
    shown = masked_request({"url": "https://h.example", "headers": {"Authorization": "Bearer x"}})
    assert shown["headers"] == {"Authorization": "[masked]"}


def test_the_entry_rules_say_why_a_sample_stays_out() -> None:
    document = _document(
        {"z": EXIT}, start="z", entry={"mode": "cooldown", "cooldown": {"days": 7}}
    )
    other = EventData("m9", "track", "Order Completed", START, {})
    refused = _run(document, _sample(trigger=other))
    assert not refused["entered"]
    assert refused["state"] == "not_entered"
    assert refused["entry"] == "the trigger takes 'Signed Up', and the event is 'Order Completed'"
    assert refused["steps"] == []
    filtered = _document(
        {"z": EXIT},
        start="z",
        trigger={
            "type": "event",
            "event": "Signed Up",
            "where": [{"property": "plan", "operator": "equals", "value": "free"}],
        },
    )
    assert "do not meet the trigger's filters" in _run(filtered)["entry"]
    recent = Entered(True, START - timedelta(days=2), ())
    cooling = _run(document, _sample(history=recent))
    assert cooling["entry"].startswith("it entered at 2026-02-28T09:00:00+00:00: the cooldown")
    once = _run(_document({"z": EXIT}, start="z"), _sample(history=Entered(True, None, ())))
    assert once["entry"] == "it entered before, and the entry rule is once per profile"
    running = _run(_document({"z": EXIT}, start="z"), _sample(history=Entered(True, None, ("",))))
    assert running["entry"] == "it is in the journey now"
    member = _document(
        {"z": EXIT}, start="z", trigger={"type": "event", "event": "Signed Up", "audience": "vips"}
    )
    assert _run(member)["entry"] == "it is not in audience 'vips', the trigger's"
    assert _run(member, _sample(audiences=frozenset({"vips"})))["entered"]


def test_a_journey_requiring_consent_refuses_without_it_and_ends_once_it_is_withdrawn() -> None:
    document = _document(
        {
            "a": {"type": "delay", "config": {"duration": {"days": 2}}, "next": {"out": "b"}},
            "b": {"type": "send", "config": {"destination": 3, "event": "Offer"}, "next": {}},
        },
        entry={"consent": ["Marketing", "Email"]},
    )
    refused = _run(document, _sample(consent={"Marketing": True, "Email": False}))
    assert (refused["entered"], refused["entry"]) == (False, "it has not consented to Email")
    consenting = {"Marketing": True, "Email": True}
    sent = _run(document, _sample(consent=consenting))
    assert _path(sent) == [("a", "out"), ("b", "out")]
    withdrawal = Later(
        timedelta(hours=5),
        EventData("m-w", "track", "Segment Consent Preference Updated", START, {}),
        consent={"Marketing": False, "Email": True},
    )
    withdrawn = _run(document, _sample(consent=consenting, later=[withdrawal]))
    assert withdrawn["state"] == "exited"
    assert _path(withdrawn) == [("a", "out"), ("b", None)]
    assert withdrawn["outcome"] == "it no longer consents to Marketing (consent_withdrawn)"


def test_an_exit_rule_ends_the_run_while_the_profile_waits_and_the_goal_counts() -> None:
    document = _document(
        {
            "a": {"type": "delay", "config": {"duration": {"days": 2}}, "next": {"out": "z"}},
            "z": EXIT,
        },
        exits=[{"event": "Unsubscribed"}],
        goal={"event": "Order Completed", "within": {"days": 1}},
    )
    run = _run(document, _sample(later=[_later(1, "Order Completed"), _later(5, "Unsubscribed")]))
    assert run["state"] == "exited"
    assert _path(run) == [("a", None)]
    assert run["outcome"] == "it left by an exit rule at 'a', +5 hours"
    assert run["steps"][0]["elapsed"] == 5 * 3600
    assert run["converted_at"] == "2026-03-02T10:00:00.000Z"
    assert run["events"][0]["outcome"].startswith("reached the goal")


def test_a_draft_that_goes_round_stops_at_the_step_limit() -> None:
    document = _document(
        {
            "a": {"type": "goto", "config": {"node": "b"}},
            "b": {"type": "goto", "config": {"node": "a"}},
        }
    )
    run = _run(document)
    assert run["state"] == "stopped"
    assert len(run["steps"]) == MAX_STEPS
    assert "goes round in a loop" in run["outcome"]
    assert run["steps"][0]["why"] == "goes to 'b'"


def test_an_unconnected_port_completes_and_a_manual_journey_needs_no_event() -> None:
    document = _document(
        {"a": {"type": "delay", "config": {"duration": {"minutes": 5}}}},
        trigger={"type": "manual"},
    )
    run = _run(document, _sample(trigger=None))
    assert run["entered"]
    assert run["entry"].startswith("it enters: started by hand")
    assert run["outcome"] == "it completed the journey: the port it left by leads nowhere"
    assert run["ended_at"] == "2026-03-02T09:05:00.000Z"


# Through a running server.

BASE = "/api/v1/workspaces/default"
_TABLES = ("deliveries", "events", "journey_instances", "journey_steps", "journey_calls")


async def _counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        return {
            table: int(await connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
            for table in _TABLES
        }


async def _profile_of(engine: AsyncEngine, user_id: str) -> str:
    """The profile of ``user_id`` once the processor has made it (with its traits)."""
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    while datetime.now(UTC) < deadline:
        async with engine.connect() as connection:
            found = await connection.scalar(
                text(
                    "SELECT i.profile_id FROM identifiers i JOIN profiles p ON p.id = i.profile_id"
                    " WHERE i.type = 'user_id' AND i.value = :u AND p.traits ? 'first_name'"
                ),
                {"u": user_id},
            )
        if found is not None:
            return str(found)
        await asyncio.sleep(0.2)
    raise AssertionError(f"no profile for {user_id}")


def _published(server: RunningServer, hook: int, sink: Sink) -> None:
    document = _document(
        {
            "a": {"type": "delay", "config": {"duration": {"hours": 1}}, "next": {"out": "w"}},
            "w": {
                "type": "wait_event",
                "config": {
                    "events": [{"port": "bought", "event": "Order Completed"}],
                    "timeout": {"days": 3},
                },
                "next": {"bought": "m", "timeout": "h"},
            },
            "m": {
                "type": "send",
                "config": {
                    "destination": hook,
                    "event": "Thanks",
                    "properties": {"hi": "Thank you, {{ traits.first_name }}!"},
                },
                "next": {"out": "t"},
            },
            "h": {
                "type": "webhook",
                "config": {"url": sink.url + "/nudge?token=abc"},
                "next": {"out": "t"},
            },
            "t": {
                "type": "update_traits",
                "config": {"updates": [{"op": "increment", "trait": "nudged", "value": 1}]},
                "next": {"out": "z"},
            },
            "z": EXIT,
        },
        start="a",
    )
    body = {"key": "welcome", "name": "Welcome", "document": document}
    server.api("POST", f"{BASE}/journeys", json=body)
    server.api("POST", f"{BASE}/journeys/welcome/publish")


def _test_run(server: RunningServer, body: dict[str, Any], key: str = "welcome") -> httpx.Response:
    with server.admin() as client:
        return client.post(f"{BASE}/journeys/{key}/test-run", json=body)


async def test_a_test_run_of_a_real_profile_stores_queues_and_sends_nothing(
    server: RunningServer, engine: AsyncEngine
) -> None:
    with Sink() as sink:
        hook = int(
            server.api(
                "POST",
                f"{BASE}/destinations",
                json={"name": "CRM", "kind": "webhook", "config": {"url": sink.url}},
            )["id"]
        )
        _published(server, hook, sink)
        identify = {"type": "identify", "userId": "ada", "traits": {"first_name": "Ada"}}
        async with httpx.AsyncClient(auth=(server.write_key, "")) as client:
            response = await client.post(f"{server.url}/v1/identify", json=identify)
        assert response.status_code == 200, response.text
        profile = await _profile_of(engine, "ada")
        # Settled: the identify reached the destination, and nothing is left queued.
        await asyncio.to_thread(sink.wait_for, 1)
        await wait_for(engine, "SELECT count(*) FROM deliveries", 0, within=30)
        before, requests = await _counts(engine), len(sink.requests)
        signed_up = {"type": "track", "event": "Signed Up", "properties": {}}
        bought = {"after": {"hours": 2}, "event": {"type": "track", "event": "Order Completed"}}
        answer = _test_run(server, {"event": signed_up, "profile_id": profile, "later": [bought]})
        assert answer.status_code == 200, answer.text
        run = answer.json()
        assert run["entered"]
        assert run["profile_id"] == profile
        assert run["state"] == "completed"
        assert _path(run) == [
            ("a", "out"),
            ("w", "bought"),
            ("m", "out"),
            ("t", "out"),
            ("z", None),
        ]
        send = run["steps"][2]["effect"]
        assert send["payload"]["properties"] == {"hi": "Thank you, Ada!"}
        assert send["payload"]["userId"] == "ada"
        assert send["destination"] == hook
        assert run["steps"][3]["effect"]["payload"]["traits"] == {"nudged": 1}
        # without the order: the webhook, its token masked
        late = _test_run(server, {"event": signed_up, "user_id": "ada"}).json()
        request = late["steps"][2]["effect"]["payload"]
        assert request["url"].endswith("/nudge?token=%5Bmasked%5D")
        assert request["body"]["profile"] == {"id": profile, "traits": {"first_name": "Ada"}}
        await asyncio.sleep(1.5)
        assert await _counts(engine) == before
        assert len(sink.requests) == requests
        # the sample never entered for real: once per profile still lets it in
        assert _test_run(server, {"event": signed_up, "profile_id": profile}).json()["entered"]


def test_a_test_run_answers_4xx_naming_what_is_wrong(server: RunningServer) -> None:
    with Sink() as sink:
        _published(server, 1, sink)
    signed_up = {"type": "track", "userId": "u", "event": "Signed Up"}

    def refused(body: dict[str, Any], status: int, code: str, key: str = "welcome") -> Any:
        answer = _test_run(server, body, key)
        assert answer.status_code == status, answer.text
        assert answer.json()["code"] == code
        return answer.json()

    assert refused({}, 400, "invalid_sample")["problems"][0]["path"] == "event"
    bad = refused({"event": {"type": "track", "event": "Signed Up"}}, 400, "invalid_sample")
    assert bad["problems"][0]["path"] == "event"  # no userId or anonymousId, no profile
    later = {"after": {"hours": 1}, "event": {"type": "nope"}}
    bad = refused({"event": signed_up, "later": [later]}, 400, "invalid_sample")
    assert bad["problems"][0]["path"] == "later.0.event"
    refused({"event": signed_up, "failing": ["a"]}, 400, "invalid_sample")
    refused({"event": signed_up, "profile_id": "prf_nobody"}, 404, "profile_not_found")
    refused({"event": signed_up, "user_id": "nobody"}, 404, "profile_not_found")
    refused({"event": signed_up, "version": 9}, 404, "version_not_found")
    refused({"event": signed_up}, 404, "journey_not_found", key="nope")
    document = {
        "version": 1,
        "trigger": {"type": "manual"},
        "start": "a",
        "nodes": {"a": {"type": "nope"}},
    }
    wrong = refused({"document": document}, 400, "invalid_journey")
    assert wrong["problems"][0]["path"] == "nodes.a.type"
    empty = {"version": 1, "trigger": {"type": "manual"}, "start": "start", "nodes": {}}
    assert refused({"document": empty}, 400, "invalid_journey")["problems"][0]["path"] == "start"
    refused(
        {"event": signed_up, "later": [{"after": {}, "event": signed_up}]}, 400, "invalid_request"
    )
    # an unsaved draft runs, its publishing problems listed with the run
    loose = {
        "version": 1,
        "trigger": {"type": "manual"},
        "start": "a",
        "nodes": {"a": {"type": "delay", "config": {"duration": {"hours": 1}}}},
    }
    run = _test_run(server, {"document": loose, "traits": {"plan": "pro"}}).json()
    assert run["state"] == "completed"
    assert run["problems"][0]["path"] == "nodes.a.next"


def test_the_command_line_prints_the_path(server: RunningServer, tmp_path: Path) -> None:
    with Sink() as sink:
        _published(server, 1, sink)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"type": "track", "userId": "u", "event": "Signed Up"}))
    cli = cli_for(server, tmp_path / "cli")
    done = cli.run("journeys", "test", "welcome", "--event", str(event))
    assert done.returncode == 0, done.stderr
    assert "Entry: it enters: the event matches the trigger" in done.stdout
    assert "+1h  a (delay) -> out: waited 1 hour (duration)" in done.stdout
    assert "+3d 1h  w (wait_event) -> timeout: timed out after 3 days" in done.stdout
    assert "would call POST http://" in done.stdout
    assert "Nothing was sent, queued or stored." in done.stdout
    as_json = cli.run(
        "journeys", "test", "welcome", "--event", "-", "--json", stdin=event.read_text()
    )
    assert json.loads(as_json.stdout)["steps"][0]["node"] == "a"
    missing = cli.run("journeys", "test", "welcome")
    assert missing.returncode != 0
    assert "give one to run it with" in missing.stderr
