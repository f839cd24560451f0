"""Events that never reached a profile are erased through the records pointing at their log
entries: here a processing failure, on the memory log (the contract's other implementation)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.log import MemoryLog
from headwater.privacy import Person, erase
from headwater.storage import begin
from tests.log.test_contract import make_record

_FAILED = """
INSERT INTO processing_failures (workspace_id, source_id, message_id, log_partition, log_offset,
    stage, reason, status)
VALUES (1, 1, $1, 0, $2, 'profile', 'boom', 'open'), (1, 1, $3, 0, $4, 'profile', 'boom', 'open')
"""


async def test_a_failed_event_of_the_person_goes_with_its_failure(engine: AsyncEngine) -> None:
    log = MemoryLog(4)
    await log.append(
        [
            make_record("theirs", user_id=None, anonymous_id="a-9"),
            make_record("someone-elses", user_id="u-2"),
        ]
    )
    theirs, others = await log.entries([1, 2])
    person = Person(workspace_id=1, profile_ids=(), identifiers=(("anonymous_id", "a-9"),))
    async with engine.begin() as connection:
        tx = await begin(connection)
        await tx.driver.execute(_FAILED, "theirs", theirs.offset, "someone-elses", others.offset)
        removed = await erase(tx, person, log=log)
        again = await erase(tx, person, log=log)
        left = await tx.driver.fetch("SELECT message_id FROM processing_failures")
    assert (removed["events"], removed["processing_failures"]) == (1, 1)
    assert (again["events"], again["processing_failures"]) == (0, 0)
    assert [row[0] for row in left] == ["someone-elses"]
    assert await log.entries([theirs.offset, others.offset]) == [others]
