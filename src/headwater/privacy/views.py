"""The read models of retention, as the management API shows them (``TypedDict``s, like every
read model; times in :func:`~headwater.spec.format_timestamp`'s form)."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict

__all__ = ["RetentionItemView", "RetentionPlanView", "RetentionView", "RetentionWindowView"]


class RetentionWindowView(TypedDict):
    """One window: the store, the source it is for (None: the workspace's), its days."""

    store: str
    source_id: int | None
    days: int
    updated_at: str


class RetentionView(TypedDict):
    """A workspace's windows, and the install's default for stores and sources without one
    (None: keep everything)."""

    workspace: str
    default_days: int | None
    windows: list[RetentionWindowView]


class RetentionItemView(TypedDict):
    """One thing retention drops or deletes. ``drop_partition``: a whole day of the event log
    (``partition``, received from ``start`` to ``end``) goes; ``rows`` counts the workspace's
    events in it. ``delete_rows``: the rows of a store older than ``older_than`` (of
    ``source_id`` only, when set; for the log, in ``partition`` only) are deleted."""

    store: str
    action: Literal["drop_partition", "delete_rows"]
    partition: str | None
    start: str | None
    end: str | None
    source_id: int | None
    older_than: str | None
    rows: int


class RetentionPlanView(TypedDict):
    """What retention would do now (``dry_run``) or did, for one workspace (every workspace's
    when ``workspace`` is None: the background task's report)."""

    workspace: str | None
    as_of: str
    dry_run: bool
    items: list[RetentionItemView]
    rows: int
