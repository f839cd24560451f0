"""When and how the governed form of a batch is written: before the next stage runs (other
readers see it while the processor's transaction is open), replaced on a redelivery or a retry
under a changed plan."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from headwater.batch import Batch
from headwater.log import LogRecord
from headwater.pipeline import Processor
from headwater.protocols import ProtocolStage
from headwater.spec import Envelope, Event, normalise
from headwater.telemetry.metrics import Metrics
from tests.protocols.plans import BAD_ORDER, GOOD_ORDER
from tests.protocols.shop import MODES, Shop, violations_of


async def test_a_redelivered_entry_is_governed_as_its_latest_delivery_was(shop: Shop) -> None:
    """Delivered again after its plan's settings changed (a batch that failed after the
    protocols stage), an entry's governed form is replaced; passing unchanged, it is the
    event as sent again."""
    await shop.connect("omit")
    [bad] = await shop.send(BAD_ORDER)
    assert (await shop.profile_events())[bad]["properties"] == {"order_id": "o2"}
    entries = [
        e for p in range(shop.log.partitions) for e in await shop.log.read(p, after=0, limit=9)
    ]
    stage = ProtocolStage(Metrics())
    for mode, expected in [("flag", [("pattern_mismatch", "properties.coupon")]), ("allow", [])]:
        await shop.connect(mode)
        async with shop.engine.begin() as connection:
            await stage.process(Batch(entries), connection)
        seen = (await shop.profile_events())[bad]
        assert seen["properties"] == {"order_id": "o2", "coupon": "X"}
        assert violations_of(seen) == expected


class _Peek:
    """A later stage that reads, on a connection of its own, what any other reader would see
    of the batch while the processor's transaction is still open."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.seen: dict[str, dict[str, Any] | None] = {}

    async def process(self, batch: Batch, connection: AsyncConnection) -> None:
        async with self.engine.connect() as other:
            rows = await other.execute(
                text(
                    "SELECT e.message_id, g.payload FROM events e"
                    " LEFT JOIN governed_events g ON g.seq = e.seq"
                )
            )
            self.seen = {row.message_id: row.payload for row in rows}


@pytest.mark.parametrize("mode", MODES)
async def test_the_governed_form_is_committed_before_the_next_stage_runs(
    shop: Shop, mode: str
) -> None:
    """The profile stage commits part of its work apart, before the processor's transaction
    ends: the governed form of the batch must already be there for other readers."""
    await shop.connect(mode)
    peek = _Peek(shop.engine)
    shop.processor = Processor(
        engine=shop.engine,
        log=shop.log,
        settings=shop.settings,
        metrics=Metrics(),
        stages=[ProtocolStage(Metrics()), peek],
    )
    good, bad = await shop.send(GOOD_ORDER, BAD_ORDER)
    assert peek.seen[good] is not None
    assert peek.seen[good]["properties"] == {"order_id": "o1"}
    if mode == "block":
        assert peek.seen[bad] is None
    elif mode == "omit":
        assert peek.seen[bad] is not None
        assert peek.seen[bad]["properties"] == {"order_id": "o2"}
    else:
        assert peek.seen[bad] is not None
        assert violations_of(peek.seen[bad]) == [("pattern_mismatch", "properties.coupon")]


async def test_a_batch_retried_after_a_failure_keeps_no_governed_form_of_its_first_attempt(
    shop: Shop,
) -> None:
    """The governed form commits before the later stages run; if one of them fails, the batch
    is rolled back and retried. Passing unchanged on the retry (its plan changed meanwhile),
    the entry is read as sent, as the later stages then saw it."""
    await shop.connect("omit")
    envelope = Envelope(received_at=datetime.now(UTC))
    event = normalise(
        {**BAD_ORDER, "userId": "u1", "messageId": "retried"},
        index=0,
        route_type=None,
        envelope=envelope,
    )
    assert isinstance(event, Event)
    await shop.log.append([LogRecord(workspace_id=1, source_id=shop.source_id, event=event)])
    entries = [
        e for p in range(shop.log.partitions) for e in await shop.log.read(p, after=0, limit=9)
    ]
    stage = ProtocolStage(Metrics())

    async def governed() -> dict[str, Any]:
        async with shop.engine.connect() as connection:
            payload = await connection.scalar(
                text("SELECT payload FROM governed_events WHERE message_id = 'retried'")
            )
        assert isinstance(payload, dict)
        return payload

    async with shop.engine.connect() as connection:
        transaction = await connection.begin()
        await stage.process(Batch(entries), connection)
        await transaction.rollback()  # a later stage failed
    assert (await governed())["properties"] == {"order_id": "o2"}
    await shop.connect("allow")
    async with shop.engine.begin() as connection:
        await stage.process(Batch(entries), connection)
    assert (await governed())["properties"] == {"order_id": "o2", "coupon": "X"}
