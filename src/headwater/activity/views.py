"""The read models of what arrived: a stored event, a rejection, a count bucket.

``TypedDict``s, like every read model of the management API (see ``workspaces/views.py``):
the service builds the dicts it built before, and the API declares these as its answers.
Times are strings already in :func:`~headwater.spec.format_timestamp`'s form.
"""

from __future__ import annotations

from typing import Any, NotRequired

from typing_extensions import TypedDict

__all__ = ["CountView", "EventView", "RejectionView"]


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
    """Accepted, duplicate and rejected counts of one bucket of one source (and, grouped by
    event, of one event type and name)."""

    bucket: str
    sourceId: int | None
    accepted: int
    duplicates: int
    rejected: int
    type: NotRequired[str | None]
    event: NotRequired[str | None]
