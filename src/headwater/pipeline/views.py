"""The read models of processing failures and of the backlog, as the management API shows them.

``TypedDict``s, like every read model (see ``workspaces/views.py``). Times are strings in
:func:`~headwater.spec.format_timestamp`'s form.
"""

from __future__ import annotations

from typing_extensions import TypedDict

__all__ = ["BacklogView", "FailureView", "ReplayedFailuresView"]


class FailureView(TypedDict):
    """An event a processor stage failed on alone, set aside (``status`` open or resolved)
    with the stage, the reason and its place in the log."""

    id: int
    workspace_id: int
    source_id: int
    message_id: str
    log_partition: int
    log_offset: int
    stage: str
    reason: str
    status: str
    attempts: int
    first_failed_at: str
    failed_at: str
    resolved_at: str | None


class ReplayedFailuresView(TypedDict):
    """The failures replayed: those that passed (``resolved``) and those that failed again."""

    replayed: int
    resolved: list[FailureView]
    failed: list[FailureView]


class BacklogView(TypedDict):
    """The processor's backlog: partitions with events waiting, when the oldest waiting event
    was received (None when none waits) and how long ago, in seconds."""

    partitions_behind: int
    oldest_waiting: str | None
    lag_seconds: float
