"""Privacy's operations, each owning its transaction.

>>> await erase_person(engine, log, workspace_id=1, subject_type="USER_ID", subject_id="u-1")
{'events': 12, 'profiles': 2, ...}
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.log import EventLog
from headwater.privacy.erase import erase
from headwater.privacy.person import SubjectType, person_of
from headwater.storage import begin

__all__ = ["erase_person"]


async def erase_person(
    engine: AsyncEngine,
    log: EventLog,
    *,
    workspace_id: int,
    subject_type: SubjectType,
    subject_id: str,
) -> dict[str, int]:
    """Erase the whole person ``subject_id`` names (see :func:`~headwater.privacy.erase`) in
    one transaction, committed here; return rows removed per store. Same precondition as
    :func:`~headwater.privacy.erase`: every event appended before has been processed."""
    async with engine.begin() as connection:
        tx = await begin(connection)
        person = await person_of(
            tx, workspace_id=workspace_id, subject_type=subject_type, subject_id=subject_id
        )
        return await erase(tx, person, log=log)
