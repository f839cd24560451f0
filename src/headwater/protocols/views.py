"""The read models of tracking plans, as the management API and the CLI show them.

``TypedDict``s, like every read model (see ``workspaces/views.py``): the services build the
dicts they built before, mypy checks their keys, and the API declares these as its answers.
Times are strings in :func:`~headwater.spec.format_timestamp`'s form.
"""

from __future__ import annotations

from typing import Any, NotRequired

from typing_extensions import TypedDict

__all__ = [
    "ConnectionView",
    "DocumentView",
    "EventChangeView",
    "EventChangesView",
    "EventRefView",
    "EventSpecView",
    "ObservedEventView",
    "ObservedFieldView",
    "ObservedPathView",
    "PlanDiffView",
    "PlanView",
    "PlanWithDocumentView",
    "PropertyChangeView",
    "QuarantinedView",
    "ResentView",
    "VersionView",
    "ViolationCountView",
    "ViolationKindView",
    "ViolationsView",
]


class PlanView(TypedDict):
    """A plan: its newest ``version`` and the sources validated against it."""

    slug: str
    name: str
    version: int
    sources: list[int]
    created_at: str
    updated_at: str


class EventSpecView(TypedDict):
    """A planned event: its name, call type and the JSON Schema of its properties."""

    name: str
    type: str
    description: NotRequired[str]
    labels: NotRequired[dict[str, str]]
    schema: dict[str, Any]


class DocumentView(TypedDict):
    """A plan document, as stored, exported and drafted (empty optional fields left out)."""

    name: str
    description: NotRequired[str]
    common: NotRequired[dict[str, Any]]
    identify_traits: NotRequired[dict[str, Any]]
    group_traits: NotRequired[dict[str, Any]]
    events: list[EventSpecView]


class PlanWithDocumentView(PlanView):
    """A plan with the document of ``shown_version``."""

    shown_version: int
    document: DocumentView


class VersionView(TypedDict):
    version: int
    note: str
    events: int
    created_at: str


class PropertyChangeView(TypedDict):
    """A property ``added``, ``removed`` or ``changed`` (its rule before and after), or a
    ``schema`` change no property shows; ``breaking`` when valid messages may now fail."""

    change: str
    path: NotRequired[str]
    before: NotRequired[Any]
    after: NotRequired[Any]
    breaking: bool


class EventRefView(TypedDict):
    type: str
    name: str


class EventChangeView(TypedDict):
    """A planned event kept with changes: its properties, its description or labels."""

    type: str
    name: str
    properties: list[PropertyChangeView]
    metadata: dict[str, Any]


class EventChangesView(TypedDict):
    added: list[EventRefView]
    removed: list[EventRefView]
    changed: list[EventChangeView]


PlanDiffView = TypedDict(
    "PlanDiffView",
    {
        "from": int,
        "to": int,
        "events": EventChangesView,
        "identify_traits": list[PropertyChangeView],
        "group_traits": list[PropertyChangeView],
        "common": list[PropertyChangeView],
        "metadata": dict[str, Any],
        "breaking": bool,
    },
)
"""What changed from version ``from`` to ``to``: events added, removed and changed, the
traits, common schema and metadata changes, and whether any change breaks callers."""


class ConnectionView(TypedDict):
    """A source validated against a plan, with its enforcement settings."""

    source_id: int
    plan: str
    plan_version: int
    settings: dict[str, str]
    revision: int
    connected_at: str


class ViolationKindView(TypedDict):
    """One kind of violation (source, event, type, path) with its count and samples."""

    source_id: int
    event_type: str
    event_name: str
    type: str
    path: str
    count: int
    message: str | None
    first_seen: str | None
    last_seen: str | None
    samples: Any


class ViolationCountView(TypedDict):
    bucket: str
    type: str
    count: int


class ViolationsView(TypedDict):
    since: str
    until: str
    violations: list[ViolationKindView]
    counts: list[ViolationCountView]


class QuarantinedView(TypedDict):
    """A blocked message, its reason and violations; ``status`` says what became of it."""

    id: int
    source_id: int
    message_id: str
    type: str
    name: str | None
    reason: str
    violations: Any
    status: str
    attempts: int
    plan_version: int | None
    first_blocked_at: str
    blocked_at: str
    resolved_at: str | None
    forwarded_to: int | None
    payload: NotRequired[Any]


class ResentView(TypedDict):
    """How many quarantined messages were appended again (``replayed`` or ``forwarded``)."""

    replayed: NotRequired[int]
    forwarded: NotRequired[int]
    ids: list[int]


class ObservedFieldView(TypedDict):
    """A property path over all of a workspace's sources and events."""

    path: str
    types: dict[str, int]
    count: int
    last_seen: str | None
    source_ids: list[int]
    detected: list[str]
    """Built-in PII detectors that found a value there (``email``, ``phone``…)."""


class ObservedPathView(TypedDict):
    """A property path of an event: the JSON types seen with their counts."""

    path: str
    types: dict[str, int]
    count: int
    last_seen: str | None


class ObservedEventView(TypedDict):
    """An event the source sent, with its count and its property paths."""

    type: str
    name: str
    count: int
    first_seen: NotRequired[str]
    last_seen: NotRequired[str]
    properties: list[ObservedPathView]
