"""The read models of what arrived: a stored event, a rejection, a count bucket.

``TypedDict``s, like every read model of the management API (see ``workspaces/views.py``):
the service builds the dicts it built before, and the API declares these as its answers.
Times are strings already in :func:`~headwater.spec.format_timestamp`'s form.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

__all__ = ["CountView", "EventView", "FateView", "RejectionView"]


class EventView(TypedDict):
    """An event as stored (normalised); ``offset`` is its log position."""

    offset: int
    partition: int
    sourceId: int
    messageId: str
    type: str
    name: str | None
    receivedAt: str
    payload: dict[str, Any]


class RejectionView(TypedDict):
    """A message (or a whole request, ``index`` null) refused, with the reason."""

    id: int
    sourceId: int | None
    receivedAt: str
    index: int | None
    type: str | None
    messageId: str | None
    reason: str
    payload: Any


class CountView(TypedDict):
    """Accepted, duplicate, rejected and suppressed counts of one bucket of one source (and,
    grouped by event, of one event type and name). ``suppressed``: messages of suppressed
    people, refused before the log (a regulation's suppression)."""

    bucket: str
    sourceId: int | None
    accepted: int
    duplicates: int
    rejected: int
    suppressed: int
    type: NotRequired[str | None]
    event: NotRequired[str | None]


class FateView(TypedDict):
    """A message of a source's live feed that was not stored as it came, or not passed on as
    stored: ``rejected`` (invalid, with the reason), ``duplicate`` (its messageId was seen
    within the dedup window), ``blocked`` (stored, then held in quarantine by a tracking plan,
    with the reason and the violations) or ``flagged`` (stored, then let through by a tracking
    plan with the violations under ``context.violations`` or the offending fields omitted:
    the violations, and ``payload`` as later stages receive it). ``id`` is the record's in its
    fate's list."""

    fate: Literal["rejected", "duplicate", "blocked", "flagged"]
    id: int
    sourceId: int
    messageId: str | None
    type: str | None
    name: str | None
    receivedAt: str
    reason: str | None
    violations: NotRequired[Any]
    payload: Any
