"""When a sync runs: by hand only, every N seconds, or on a cron expression (in UTC).

>>> from datetime import datetime, UTC
>>> start = datetime(2026, 1, 1, 0, 7, tzinfo=UTC)
>>> next_run(Schedule(kind="cron", expression="*/15 * * * *"), after=start)
datetime.datetime(2026, 1, 1, 0, 15, tzinfo=datetime.timezone.utc)
>>> next_run(Schedule(kind="interval", seconds=3600), after=start).hour
1
>>> next_run(Schedule(kind="manual"), after=start) is None
True

Cron expressions are parsed by ``cronsim`` (five fields, with ``L``, ``#`` and ``W``), and
evaluated in UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import msgspec
from cronsim import CronSim, CronSimError

from headwater.errors import BadRequest

__all__ = ["MIN_INTERVAL_SECONDS", "Schedule", "check_schedule", "next_run"]

MIN_INTERVAL_SECONDS = 60


class Schedule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["manual", "interval", "cron"] = "manual"
    seconds: int | None = None
    """Between runs, for ``interval``."""
    expression: str | None = None
    """Five-field cron expression in UTC, for ``cron``."""


def check_schedule(schedule: Schedule) -> None:
    """Raise :class:`BadRequest` (``invalid_schedule``) unless the schedule can run."""
    if schedule.kind == "interval":
        if schedule.seconds is None or schedule.seconds < MIN_INTERVAL_SECONDS:
            raise BadRequest(
                "invalid_schedule",
                f"an interval schedule needs seconds of at least {MIN_INTERVAL_SECONDS}",
            )
    elif schedule.kind == "cron":
        if not schedule.expression:
            raise BadRequest("invalid_schedule", "a cron schedule needs an expression")
        try:
            CronSim(schedule.expression, datetime(2026, 1, 1))
        except CronSimError as error:
            raise BadRequest(
                "invalid_schedule",
                f"the cron expression {schedule.expression!r} is not valid: {error}",
            ) from None


def next_run(schedule: Schedule, *, after: datetime) -> datetime | None:
    """The first time strictly after ``after`` (aware, UTC) the sync is due; None by hand."""
    if schedule.kind == "interval" and schedule.seconds is not None:
        return after + timedelta(seconds=schedule.seconds)
    if schedule.kind == "cron" and schedule.expression:
        return next(CronSim(schedule.expression, after))
    return None
