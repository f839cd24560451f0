"""The regulation job erases a subject only once the processor has processed every event
received before the subject's suppression; what one check proved is remembered for the other
subjects of the pass, and never stretched past an event still waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.log import PostgresLog
from headwater.privacy.job import Regulator
from tests.privacy.helpers import append


async def test_a_waiting_event_bounds_what_is_remembered(engine: AsyncEngine) -> None:
    received = datetime.now(UTC) - timedelta(minutes=5)
    await append(engine, received, 3, workspace_id=1, source_id=1)
    log = PostgresLog(engine, 4)
    try:
        regulator = Regulator(engine, log, erase=None, grace=timedelta(seconds=2))
        # Nothing was processed: the events received at ``received`` wait.
        assert await regulator._caught_up(received - timedelta(seconds=30))
        assert await regulator._caught_up(received - timedelta(seconds=1))
        assert not await regulator._caught_up(received)
        assert not await regulator._caught_up(received + timedelta(seconds=1))
        # The grace for requests in flight is still kept for a time not yet past.
        assert not await regulator._caught_up(datetime.now(UTC))
    finally:
        await log.close()
