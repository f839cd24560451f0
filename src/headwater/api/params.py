"""The types of the APIs' numeric and time inputs, bounded to what the database can hold.

An id or a cursor past its column's range cannot name anything, and the driver refuses to
send it; a time whose UTC form (or the default window around it) falls outside the range of
representable times cannot be compared with any stored one. Declaring the bounds in the type
turns such inputs into a 422 ``invalid_request`` naming the field, and the OpenAPI document
shows the bounds (``minimum``/``maximum``)::

    @router.get("/sources/{source_id}/events")
    async def latest(source_id: Id, before: Cursor | None = None) -> ...
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Final

from annotated_types import Ge, Le
from pydantic import AfterValidator

__all__ = ["BIGINT_MAX", "INTEGER_MAX", "BigId", "Cursor", "Id", "Moment"]

INTEGER_MAX: Final = 2**31 - 1
"""The largest PostgreSQL ``integer`` (``serial``)."""

BIGINT_MAX: Final = 2**63 - 1
"""The largest PostgreSQL ``bigint``."""

Id = Annotated[int, Ge(1), Le(INTEGER_MAX)]
"""A ``serial`` key: a workspace, source or destination id, a plan version."""

BigId = Annotated[int, Ge(1), Le(BIGINT_MAX)]
"""A ``bigint`` key: a quarantined message's or a dead letter's id."""

Cursor = Annotated[int, Ge(0), Le(BIGINT_MAX)]
"""A position to page or resume from: a log offset, or a ``bigint`` id."""

# The services derive windows from a given time (a day before ``until``, a minute after now,
# the bucket around it): a day's margin keeps each of them representable too.
_EARLIEST: Final = datetime.min.replace(tzinfo=UTC) + timedelta(days=2)
_LATEST: Final = datetime.max.replace(tzinfo=UTC) - timedelta(days=2)


def _representable(value: datetime) -> datetime:
    """``value`` unchanged, once its UTC form (a time without offset is UTC) lies within
    0001-01-03 and 9999-12-29; a ValueError otherwise."""
    try:
        utc = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    except OverflowError:
        utc = None
    if utc is None or not _EARLIEST <= utc <= _LATEST:
        raise ValueError("the time is outside the supported range (0001-01-03 to 9999-12-29 UTC)")
    return value


Moment = Annotated[datetime, AfterValidator(_representable)]
"""A time the API can compare and derive windows from (naive times stay naive)."""
