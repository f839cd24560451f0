"""The consumer isolates an entry its handler fails on alone: the rest of the batch is handled
and the offset passes it; an outage of the database is no entry's fault and fails the whole
batch, to be retried."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.log import Consumer, LogEntry, is_transient
from headwater.telemetry.metrics import Metrics
from tests.log.conftest import LogKit
from tests.log.test_contract import make_record

# PostgreSQL behaviour (transactions, the database's errors): not part of the contract.
postgres_only = pytest.mark.parametrize("log_kit", ["postgres"], indirect=True)


class Handled:
    """A handler that fails on the batches holding ``poison`` (with ``error``) and otherwise
    records what it handled; the isolate callback records what it was given."""

    def __init__(self, poison: set[str], error: Exception) -> None:
        self.poison, self.error = poison, error
        self.handled: list[str] = []
        self.isolated: list[tuple[str, BaseException]] = []

    async def handle(self, entries: Sequence[LogEntry], connection: AsyncConnection) -> None:
        if self.poison & {e.message_id for e in entries}:
            raise self.error
        self.handled.extend(e.message_id for e in entries)

    async def isolate(
        self, entry: LogEntry, error: BaseException, connection: AsyncConnection
    ) -> None:
        self.isolated.append((entry.message_id, error))


@postgres_only
async def test_the_entries_failing_alone_are_isolated_and_the_others_handled(
    log_kit: LogKit,
) -> None:
    assert log_kit.engine is not None
    log = log_kit.make(partitions=1)
    ids = [f"m-{i}" for i in range(40)]
    await log.append([make_record(i, user_id="one-user") for i in ids])
    handled = Handled({"m-3", "m-4", "m-31"}, ValueError("refused"))
    consumer = Consumer(
        log,
        log_kit.engine,
        name="isolating",
        handler=handled.handle,
        metrics=Metrics(),
        isolate=handled.isolate,
    )
    assert await consumer.drain() == 40
    assert [message for message, _ in handled.isolated] == ["m-3", "m-4", "m-31"]
    assert sorted(handled.handled) == sorted(set(ids) - {"m-3", "m-4", "m-31"})
    assert len(handled.handled) == 37  # each good entry handled once it committed
    assert await consumer.drain() == 0  # the offset passed every entry


@postgres_only
async def test_an_outage_fails_the_batch_without_isolating_anything(log_kit: LogKit) -> None:
    assert log_kit.engine is not None
    log = log_kit.make()
    await log.append([make_record(f"m-{i}", user_id="one-user") for i in range(5)])
    handled = Handled({"m-2"}, ConnectionResetError("the server closed the connection"))
    consumer = Consumer(
        log,
        log_kit.engine,
        name="outage",
        handler=handled.handle,
        metrics=Metrics(),
        isolate=handled.isolate,
    )
    with pytest.raises(ConnectionResetError):
        await consumer.drain()
    assert handled.isolated == []
    handled.poison = set()  # the database is back
    assert await consumer.drain() == 5
    assert sorted(handled.handled) == [f"m-{i}" for i in range(5)]


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (ValueError("a bug some event reaches"), False),
        (KeyError("x"), False),
    ],
)
def test_what_counts_as_an_outage(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient
