"""Retention windows as pure rules: which window governs a row, and what becomes of a day of
a store (each is partitioned by UTC day: the event log, rejections, quarantine, dead letters,
journey steps).

A window is a number of days per workspace and store, optionally per source (for the stores
whose rows have a source). A source's own window wins over its workspace's; with neither, the
install's default (``HEADWATER_RETENTION_DEFAULT_DAYS``; unset: keep everything).

A day of a store (one partition) holds every workspace's rows of that UTC day, grouped by a key
(a source; for delivery logs a destination, for journey history a journey). Its rows of one
key are past their window when the whole day is: ``day end <= now - days``. The day is dropped
whole when every key in it is past its window; when only some are (a source whose window is
shorter than its neighbours'), those keys' rows are deleted from that day and the rest stay. A
window is a cap: nothing is kept past it for want of a neighbour.

>>> w = Windows(workspaces={1: 30}, sources={7: 2})
>>> w.days_for(1, 7), w.days_for(1, 8), w.days_for(2, 9)
(2, 30, None)
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal

__all__ = [
    "EMPTY_DAYS_KEPT",
    "SOURCE_STORES",
    "DayDecision",
    "Store",
    "Windows",
    "decide_day",
]


class Store(enum.StrEnum):
    """The stores retention governs, as the API names them."""

    EVENTS = "events"
    REJECTIONS = "rejections"
    QUARANTINE = "quarantine"
    DELIVERY_LOGS = "delivery_logs"
    JOURNEY_HISTORY = "journey_history"


SOURCE_STORES: Final = frozenset({Store.EVENTS, Store.REJECTIONS, Store.QUARANTINE})
"""The stores whose rows have a source, so a source may have a window of its own there."""

EMPTY_DAYS_KEPT: Final = 2
"""A day partition without rows is dropped once it ended this many days ago (nothing is lost:
an event arriving later for that day lands in the default partition and gets its day back)."""


@dataclass(frozen=True, slots=True)
class Windows:
    """Every window of one store: days by workspace id and by source id, and the default."""

    workspaces: Mapping[int, int] = field(default_factory=dict)
    sources: Mapping[int, int] = field(default_factory=dict)
    default: int | None = None

    def days_for(self, workspace_id: int, source_id: int | None = None) -> int | None:
        """The window of a row of this workspace (and source), in days; None: keep."""
        if source_id is not None and source_id in self.sources:
            return self.sources[source_id]
        return self.workspaces.get(workspace_id, self.default)


@dataclass(frozen=True, slots=True)
class DayDecision:
    """What becomes of one day of a store: ``drop`` it whole, ``delete`` the rows of the keys
    in ``sources`` from it, or ``keep`` it."""

    action: Literal["drop", "delete", "keep"]
    sources: tuple[int, ...] = ()


def _past(end: datetime, days: int | None, now: datetime) -> bool:
    return days is not None and end <= now - timedelta(days=days)


def decide_day(
    end: datetime, present: Sequence[tuple[int, int]], windows: Windows, now: datetime
) -> DayDecision:
    """What becomes of the day ending at ``end`` holding rows of these ``(workspace_id, key)``
    pairs (the key a source, destination or journey; the latter two have no window of their
    own, so their workspace's applies).

    >>> from datetime import UTC
    >>> now = datetime(2026, 12, 10, tzinfo=UTC)
    >>> day_end = datetime(2026, 12, 5, tzinfo=UTC)
    >>> decide_day(day_end, [(1, 7), (1, 8)], Windows(workspaces={1: 3}), now).action
    'drop'
    >>> decide_day(day_end, [(1, 7), (2, 9)], Windows(workspaces={1: 3}), now)
    DayDecision(action='delete', sources=(7,))
    """
    if not present:
        return DayDecision("drop" if end <= now - timedelta(days=EMPTY_DAYS_KEPT) else "keep")
    expired = tuple(sorted(s for w, s in present if _past(end, windows.days_for(w, s), now)))
    if len(expired) == len(present):
        return DayDecision("drop")
    if expired:
        return DayDecision("delete", expired)
    return DayDecision("keep")
