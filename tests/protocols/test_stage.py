"""The protocols stage in a real processor on PostgreSQL: enforcement, violations, the
quarantine with replay and forward, observed schemas, and idempotence."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import text

from headwater import protocols
from headwater.batch import Batch
from headwater.log import LogEntry
from headwater.protocols import records
from headwater.spec import message_builtins
from headwater.storage import connected
from tests.protocols.conftest import Pipeline
from tests.protocols.plans import VALID_ORDER, WEB, track

BAD = track("Order Completed", {"order_id": "o1", "total": "lots", "extra": True})


async def test_a_source_without_a_plan_passes_everything_and_is_observed(
    pipeline: Pipeline,
) -> None:
    source = await pipeline.source()
    [sent] = await pipeline.send(source, BAD)
    assert message_builtins(pipeline.seen[sent].message)["properties"] == BAD["properties"]
    observed = await protocols.observed_schema(
        pipeline.engine, workspace="default", source_id=source
    )
    [event] = observed
    assert (event["type"], event["name"], event["count"]) == ("track", "Order Completed", 1)
    paths = {p["path"]: p["types"] for p in event["properties"]}
    assert paths == {
        "properties.order_id": {"string": 1},
        "properties.total": {"string": 1},
        "properties.extra": {"boolean": 1},
    }


async def test_flag_attaches_violations_and_records_them(pipeline: Pipeline) -> None:
    source = await pipeline.source()
    await pipeline.plan(WEB, source, violations="flag")
    good, bad = await pipeline.send(source, VALID_ORDER, BAD)
    assert "violations" not in message_builtins(pipeline.seen[good].message).get("context", {})
    flagged = message_builtins(pipeline.seen[bad].message)["context"]["violations"]
    assert {(v["type"], v["path"]) for v in flagged} == {
        ("datatype_mismatch", "properties.total"),
        ("additional_property", "properties.extra"),
    }
    found = await protocols.violations(pipeline.engine, workspace="default", source_id=source)
    rows = {(v["type"], v["path"]): v for v in found["violations"]}
    assert set(rows) == {
        ("datatype_mismatch", "properties.total"),
        ("additional_property", "properties.extra"),
    }
    total = rows[("datatype_mismatch", "properties.total")]
    assert total["count"] == 1
    assert total["event_name"] == "Order Completed"
    assert total["samples"][0]["message_id"] == bad
    assert total["samples"][0]["payload"]["properties"]["total"] == "lots"
    assert sum(c["count"] for c in found["counts"]) == 2


async def test_omit_removes_offending_and_unplanned_properties(pipeline: Pipeline) -> None:
    source = await pipeline.source()
    await pipeline.plan(WEB, source, violations="omit", unplanned_properties="omit")
    [bad] = await pipeline.send(source, BAD)
    assert message_builtins(pipeline.seen[bad].message)["properties"] == {"order_id": "o1"}


async def quarantined(pipeline: Pipeline, **filters: object) -> list[dict[str, object]]:
    return await protocols.quarantine(
        pipeline.engine,
        workspace="default",
        status=None,
        **filters,  # type: ignore[arg-type]
    )


async def test_block_quarantines_with_the_reason(pipeline: Pipeline) -> None:
    source = await pipeline.source()
    await pipeline.plan(WEB, source, violations="block", unplanned_events="block")
    good, bad, unplanned = await pipeline.send(source, VALID_ORDER, BAD, track("Nope", {}))
    assert set(pipeline.seen) == {good}
    rows = {row["message_id"]: row for row in await quarantined(pipeline)}
    assert set(rows) == {bad, unplanned}
    assert rows[bad]["reason"] == "violations"
    assert rows[unplanned]["reason"] == "unplanned_event"
    assert rows[bad]["status"] == "quarantined"
    assert rows[bad]["plan_version"] == 1
    assert {v["type"] for v in rows[bad]["violations"]} == {  # type: ignore[attr-defined]
        "datatype_mismatch",
        "additional_property",
    }


async def test_a_changed_plan_applies_from_the_next_batch(pipeline: Pipeline) -> None:
    source = await pipeline.source()
    await pipeline.plan(WEB, source, violations="block")
    [first] = await pipeline.send(source, VALID_ORDER)
    stricter = copy.deepcopy(WEB)
    stricter["events"][0]["schema"]["required"].append("currency")
    stricter["events"][0]["schema"]["properties"]["currency"]["enum"] = ["USD"]
    await protocols.update_plan(pipeline.engine, workspace="default", slug="web", document=stricter)
    [second] = await pipeline.send(source, VALID_ORDER)
    assert first in pipeline.seen
    assert second not in pipeline.seen


async def test_replay_after_the_plan_is_fixed_releases_the_message(pipeline: Pipeline) -> None:
    source = await pipeline.source()
    await pipeline.plan(WEB, source, violations="block")
    [bad] = await pipeline.send(source, BAD)
    [row] = await quarantined(pipeline)

    # Replayed before the fix: blocked again, the same row, one more attempt.
    replayed = await protocols.replay(
        pipeline.engine,
        pipeline.log,
        workspace="default",
        ids=[int(row["id"])],  # type: ignore[call-overload]
    )
    assert replayed["replayed"] == 1
    await pipeline.processor.drain()
    [again] = await quarantined(pipeline)
    assert (again["id"], again["status"], again["attempts"]) == (row["id"], "quarantined", 2)
    assert bad not in pipeline.seen

    fixed = copy.deepcopy(WEB)
    fixed["events"][0]["schema"]["properties"]["total"] = {"type": ["number", "string"]}
    fixed["events"][0]["schema"]["properties"]["extra"] = {"type": "boolean"}
    await protocols.update_plan(pipeline.engine, workspace="default", slug="web", document=fixed)
    await protocols.replay(pipeline.engine, pipeline.log, workspace="default", source_id=source)
    await pipeline.processor.drain()
    [released] = await quarantined(pipeline)
    assert released["status"] == "released"
    delivered = message_builtins(pipeline.seen[bad].message)
    assert delivered["properties"] == BAD["properties"]
    assert delivered["context"]["headwater"]["replay"]["quarantine_id"] == row["id"]
    assert await protocols.quarantine(pipeline.engine, workspace="default") == []


async def test_forward_sends_quarantined_messages_to_another_source(pipeline: Pipeline) -> None:
    source, other = await pipeline.source("web"), await pipeline.source("sandbox")
    await pipeline.plan(WEB, source, violations="block")
    [bad] = await pipeline.send(source, BAD)
    [row] = await quarantined(pipeline)
    result = await protocols.forward(
        pipeline.engine,
        pipeline.log,
        workspace="default",
        to_source=other,
        ids=[int(row["id"])],  # type: ignore[call-overload]
    )
    assert result == {"forwarded": 1, "ids": [row["id"]]}
    await pipeline.processor.drain()
    assert pipeline.seen[bad].source_id == other
    [forwarded] = await quarantined(pipeline)
    assert (forwarded["status"], forwarded["forwarded_to"]) == ("forwarded", other)


async def _entries(pipeline: Pipeline) -> list[LogEntry]:
    found = []
    for partition in range(pipeline.log.partitions):
        found += await pipeline.log.read(partition, after=0, limit=1000)
    return found


async def test_a_redelivered_batch_counts_nothing_twice(pipeline: Pipeline) -> None:
    source = await pipeline.source()
    await pipeline.plan(WEB, source, violations="block")
    await pipeline.send(source, VALID_ORDER, BAD, BAD)

    async def snapshot() -> tuple[object, ...]:
        async with pipeline.engine.connect() as connection:
            counts = await connection.scalar(text("SELECT sum(count) FROM violation_counts"))
            observed = await connection.scalar(text("SELECT sum(count) FROM observed_schema"))
            attempts = await connection.scalar(text("SELECT sum(attempts) FROM quarantine"))
            samples = await connection.scalar(
                text("SELECT sum(jsonb_array_length(samples)) FROM violation_samples")
            )
        return counts, observed, attempts, samples

    before = await snapshot()
    entries = await _entries(pipeline)
    for _ in range(2):
        async with pipeline.engine.begin() as connection:
            batch = Batch(entries)
            await pipeline.stage.process(batch, connection)
        assert [e.message_id for e in batch.entries] == [VALID_ORDER_ID(entries)]
        assert len(batch.blocked) == len(entries) - 1
    assert await snapshot() == before
    assert before == (4, 12, 2, 4)


async def test_a_message_let_through_changed_is_kept_once_for_the_debugger(
    pipeline: Pipeline,
) -> None:
    """``flagged``: what the live debugger follows. A redelivered entry adds no row; a day
    later, the row goes (its violations stay counted)."""
    source = await pipeline.source()
    await pipeline.plan(WEB, source, violations="flag")
    _, bad = await pipeline.send(source, VALID_ORDER, BAD)

    async def flagged() -> list[Any]:
        async with pipeline.engine.connect() as connection:
            query = text("SELECT * FROM flagged ORDER BY id")
            return list(await connection.execute(query))

    [row] = await flagged()
    assert (row.message_id, row.source_id, row.type, row.name) == (
        bad,
        source,
        "track",
        "Order Completed",
    )
    assert {v["type"] for v in row.violations} == {"datatype_mismatch", "additional_property"}
    assert row.payload == message_builtins(pipeline.seen[bad].message)
    assert row.payload["context"]["violations"] == row.violations

    async with pipeline.engine.begin() as connection:
        await pipeline.stage.process(Batch(await _entries(pipeline)), connection)
    assert [r.id for r in await flagged()] == [row.id]

    async with pipeline.engine.begin() as connection:
        await connection.execute(text("UPDATE flagged SET received_at = now() - interval '25h'"))
    async with connected(pipeline.engine) as connection:
        assert await records.purge_flagged(connection) == 1
    assert await flagged() == []


def VALID_ORDER_ID(entries: list[LogEntry]) -> str:
    [valid] = [
        e.message_id
        for e in entries
        if message_builtins(e.message)["properties"].get("total") == 9.5
    ]
    return valid


async def test_unknown_things_are_404s(pipeline: Pipeline) -> None:
    import pytest

    from headwater.errors import NotFound

    with pytest.raises(NotFound):
        await protocols.replay(pipeline.engine, pipeline.log, workspace="default", ids=[999])
    with pytest.raises(NotFound):
        await protocols.connect_source(
            pipeline.engine, workspace="default", plan="nope", source_id=1
        )
