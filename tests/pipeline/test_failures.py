"""One event must not hold back the others of its partition, whatever workspace they belong
to: through the real processor (every stage), on a log of one partition shared by two
workspaces."""

from __future__ import annotations

import random

import nats
from sqlalchemy import text

from headwater.log import JetStreamLog
from headwater.profiles import set_rules
from tests.pipeline.conftest import Harness


def incompressible(length: int) -> str:
    """Text PostgreSQL cannot compress to fit an index row (a repeated letter would)."""
    return "".join(random.Random(length).choices("abcdefghijklmnopqrstuvwxyz0123456789", k=length))


def _failures_counted(harness: Harness, stage: str) -> float:
    metrics = harness.processor.metrics
    value = metrics.sample("headwater_processing_failures_total", {"stage": stage})
    return value or 0.0


async def test_a_3000_character_property_key_is_processed_beside_other_workspaces(
    harness: Harness,
) -> None:
    """The event of the report (a track with one 3,000-character property key), a trait and an
    external id type as long, among other workspaces' events in one partition: all processed."""
    a, b = await harness.space("alpha"), await harness.space("beta")
    key = incompressible(3000)
    records = [
        harness.record(a, {"type": "track", "event": "Viewed", "userId": "a1"}),
        harness.record(b, {"type": "track", "event": "Viewed", "userId": "b1"}),
        harness.record(
            a, {"type": "track", "event": "Viewed", "userId": "a2", "properties": {key: 1}}
        ),
        harness.record(b, {"type": "identify", "userId": "b2", "traits": {key: "x"}}),
        harness.record(b, {"type": "track", "event": "Viewed", "userId": "b3"}),
        harness.record(
            a,
            {
                "type": "identify",
                "userId": "a3",
                "context": {"externalIds": [{"id": "x", "type": key, "collection": "users"}]},
            },
        ),
    ]
    ids = await harness.append(records)
    await harness.drain()
    assert await harness.profiled(ids) == set(ids)
    assert await harness.queued(ids) == set(ids)
    assert await harness.failed(ids) == set()
    assert await harness.caught_up()
    async with harness.engine.connect() as connection:
        paths = set(
            await connection.scalars(
                text("SELECT path FROM observed_schema WHERE length(path) > 3000")
            )
        )
    assert paths == {f"properties.{key}", f"traits.{key}"}


async def test_an_event_a_stage_refuses_is_set_aside_and_replayed_once_fixed(
    harness: Harness,
) -> None:
    """An email trait longer than an index row allows reaches the profile stage as an
    identifier when the identity rules let such long values be identifiers (``max_length``
    raised too far): PostgreSQL refuses it. The other events of the partition, of both
    workspaces, go on; the event is a processing failure until the rules are fixed and it is
    replayed."""
    a, b = await harness.space("alpha"), await harness.space("beta")
    await set_rules(harness.engine, workspace="alpha", rules={"max_length": 5000})
    email = incompressible(3000) + "@example.com"
    bad = harness.record(a, {"type": "identify", "userId": "a-bad", "traits": {"email": email}})
    good = [
        harness.record(a, {"type": "track", "event": "Viewed", "userId": "a1"}),
        harness.record(b, {"type": "track", "event": "Viewed", "userId": "b1"}),
        bad,
        harness.record(b, {"type": "identify", "userId": "b2", "traits": {"plan": "pro"}}),
        harness.record(a, {"type": "page", "name": "Home", "userId": "a2"}),
    ]
    good.remove(bad)
    counted = _failures_counted(harness, "profile")
    ids = await harness.append([*good[:2], bad, *good[2:]])
    good_ids = [r.event.message_id for r in good]
    await harness.drain()

    assert await harness.profiled(ids) == set(good_ids)
    assert await harness.queued(ids) == set(good_ids)
    assert await harness.failed(ids) == {bad.event.message_id}
    assert await harness.caught_up()
    assert _failures_counted(harness, "profile") == counted + 1
    [failure] = await harness.processor_failures("alpha")
    assert failure["stage"] == "profile"
    assert "54000" in failure["reason"]  # program_limit_exceeded: the index row is too large
    assert (failure["workspace_id"], failure["source_id"]) == (a.workspace_id, a.source_id)
    assert failure["message_id"] == bad.event.message_id
    assert failure["status"] == "open"
    assert await harness.processor_failures("beta") == []

    # Replayed before the fix: still open, with the attempt counted.
    outcome = await harness.processor.replay(workspace="alpha")
    assert [f["attempts"] for f in outcome["failed"]] == [2]
    assert await harness.failed(ids) == {bad.event.message_id}

    await set_rules(harness.engine, workspace="alpha", rules={"max_length": 512})
    # The running processor's stages cache the rules; a replay runs fresh ones.
    processor = harness.processor
    outcome = await processor.replay(workspace="alpha", ids=[failure["id"]])
    assert outcome["replayed"] == 1
    assert [f["status"] for f in outcome["resolved"]] == ["resolved"]
    assert await harness.profiled(ids) == set(ids)
    assert await harness.queued(ids) == set(ids)
    assert await harness.failed(ids) == set()

    # Idempotent: replaying again replays nothing and queues nothing twice.
    assert (await processor.replay(workspace="alpha"))["replayed"] == 0
    async with harness.engine.connect() as connection:
        queued = await connection.scalar(
            text("SELECT count(*) FROM deliveries WHERE message_id = :m"),
            {"m": bad.event.message_id},
        )
    assert queued == 1


async def test_on_jetstream_an_entry_set_aside_is_copied_to_its_dead_letter_subject(
    jetstream_harness: Harness, nats_urls: list[str]
) -> None:
    """The same refusal on the JetStream log: besides the failure recorded in PostgreSQL, the
    entry is copied to its dead-letter subject with the stage and reason; the API's replay
    resolves it once fixed; forgetting the entry removes the copy."""
    harness = jetstream_harness
    assert isinstance(harness.log, JetStreamLog)
    a = await harness.space("alpha")
    await set_rules(harness.engine, workspace="alpha", rules={"max_length": 5000})
    email = incompressible(3000) + "@example.com"
    bad = harness.record(a, {"type": "identify", "userId": "a-bad", "traits": {"email": email}})
    good = harness.record(a, {"type": "track", "event": "Viewed", "userId": "a1"})
    ids = await harness.append([good, bad])
    await harness.drain()
    assert await harness.profiled(ids) == {good.event.message_id}
    assert await harness.failed(ids) == {bad.event.message_id}
    [failure] = await harness.processor_failures("alpha")

    client = await nats.connect(nats_urls)
    try:
        jetstream = client.jetstream()
        dead = f"{harness.log.options.name}_DEAD"
        info = await jetstream.stream_info(dead, subjects_filter=">")
        assert info.state.messages == 1
        [subject] = list(info.state.subjects or {})
        assert subject.endswith(f".dead.{failure['log_partition']}.{failure['log_offset']}")
        copy = await jetstream.get_last_msg(dead, subject)
        headers = copy.headers or {}
        assert headers["Headwater-Consumer"] == "processor"
        assert headers["Headwater-Stage"] == "profile"
        assert "54000" in headers["Headwater-Reason"]
        assert headers["Headwater-Message-Id"] == bad.event.message_id
        assert headers["Headwater-Workspace"] == str(a.workspace_id)
        assert email.encode() in (copy.data or b"")

        await set_rules(harness.engine, workspace="alpha", rules={"max_length": 512})
        outcome = await harness.processor.replay(workspace="alpha")
        assert [f["status"] for f in outcome["resolved"]] == ["resolved"]
        assert await harness.profiled(ids) == set(ids)

        assert await harness.log.forget(a.workspace_id, [failure["log_offset"]]) == 1
        assert (await jetstream.stream_info(dead)).state.messages == 0
    finally:
        await client.close()
