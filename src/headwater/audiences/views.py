"""The read models of audiences and computed traits, as the management API shows them.

``TypedDict``s, like every read model (see ``workspaces/views.py``). Definitions and values are
decoded with exact decimals (:func:`~headwater.audiences.values.decode`); :data:`Exact` writes
them back as JSON numbers, as they were sent. Times are datetimes, written in
:func:`~headwater.spec.format_timestamp`'s form.
"""

from __future__ import annotations

from typing import Annotated, Any, NotRequired

import msgspec
from pydantic import PlainSerializer
from typing_extensions import TypedDict

from headwater.audiences.values import encode
from headwater.spec import Timestamp

__all__ = [
    "ChangeTotalView",
    "ChangeView",
    "ChangesPage",
    "ComputationDeletedView",
    "ComputationView",
    "Exact",
    "MemberChangeView",
    "MemberView",
    "MembersChangedView",
    "MembersPage",
    "MembershipsView",
    "PreviewView",
    "ProfileValueView",
    "RecomputeStepView",
    "RecomputedView",
    "SampleView",
]


def _numbers(value: Any) -> Any:
    """``value`` with its decimals as JSON numbers (what FastAPI's own encoder made of them)."""
    return msgspec.json.decode(encode(value))


Exact = Annotated[Any, PlainSerializer(_numbers, when_used="json")]
"""Any JSON value decoded with exact decimals; in JSON, its decimals are numbers again."""


class ComputationView(TypedDict):
    """An audience (``kind`` audience) or computed trait (``kind`` trait); ``size`` (in lists
    and reads) is its number of members or values."""

    id: int
    kind: str
    key: str
    name: str
    description: str
    subject: str
    definition: Exact
    realtime: bool
    destinations: list[int]
    enabled: bool
    revision: int
    next_run_at: Timestamp
    computed_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    size: NotRequired[int]


class ComputationDeletedView(TypedDict):
    key: str
    deleted: bool
    exited: int


class SampleView(TypedDict):
    profile_id: str
    value: Exact


class PreviewView(TypedDict):
    """What a definition selects now: the exact size and a sample with values."""

    size: int
    sample: list[SampleView]
    seconds: float


class MemberChangeView(TypedDict):
    """What adding or removing one member of a list audience did: ``index`` in the request,
    the live ``profile_id`` it named, and ``result``: ``added``, ``removed``, or
    ``unchanged`` (already in, or not in)."""

    index: int
    profile_id: str
    result: str


class MembersChangedView(TypedDict):
    """Members added to or removed from a list audience: the counts, each known member's
    result, and a problem (``path`` ``members.N``, ``message``) for each one not found."""

    key: str
    added: int
    removed: int
    unchanged: int
    results: list[MemberChangeView]
    problems: list[dict[str, str]]


class RecomputedView(TypedDict):
    """The changes one recompute made."""

    key: str
    entered: int
    exited: int
    updated: int
    seconds: float


class RecomputeStepView(TypedDict):
    key: str
    kind: str


class MemberView(TypedDict):
    """A member (its value, for a computed trait) with the profile's user id and email."""

    profile_id: str
    value: Exact
    since: Timestamp
    updated_at: Timestamp
    user_id: str | None
    email: str | None


class MembersPage(TypedDict):
    """A page of members; ``next_cursor`` (null at the end) goes back as ``cursor``."""

    data: list[MemberView]
    next_cursor: str | None


class ChangeView(TypedDict):
    """An entry, exit or update, with its time, cause and delivery state."""

    id: int
    key: str
    profile_id: str
    change: str
    value: Exact
    previous: Exact
    at: Timestamp
    cause: str
    message_id: str | None
    delivered: bool


class ChangesPage(TypedDict):
    """A page of changes, newest first; ``next_cursor`` goes back as ``before``."""

    data: list[ChangeView]
    next_cursor: int | None


class ChangeTotalView(TypedDict):
    """The changes of one time bucket (a day or an hour in UTC, from ``bucket``); updates are
    a computed trait's changes of value (an audience has none)."""

    bucket: Timestamp
    entered: int
    exited: int
    updated: int


class ProfileValueView(TypedDict):
    key: str
    kind: str
    name: str
    value: Exact
    since: Timestamp
    updated_at: Timestamp


class MembershipsView(TypedDict):
    """A profile's audiences, computed-trait values and history (``profile_id`` is the live
    profile a merged-away ``requested_id`` answers for)."""

    profile_id: str
    requested_id: str
    audiences: list[ProfileValueView]
    traits: dict[str, Exact]
    history: list[ChangeView]
    next_cursor: int | None
