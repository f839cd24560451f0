"""The read models of profiles: the management API's profile view and identity rules, and the
answers of the Segment-shaped Profile API.

``TypedDict``s, like every read model (see ``workspaces/views.py``). The Profile API's answers
keep Segment's shapes (and its times); they are declared here so that the OpenAPI document
describes them, while its routes go on encoding them once with msgspec.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

__all__ = [
    "CursorView",
    "EventsPage",
    "ExternalIdView",
    "ExternalIdsPage",
    "IdentifierLinkView",
    "IdentifierRefView",
    "IdentityRulesView",
    "LimitView",
    "LinkView",
    "LinksPage",
    "MetadataView",
    "ProfileDetailView",
    "ProfileEventView",
    "ProfileIdentifierView",
    "ProfileLinkView",
    "ProfileMergeView",
    "ProfileMetadataView",
    "ProfileRefView",
    "ProfileTimelinePage",
    "ProfileTimelineView",
    "TraitView",
    "TraitsPage",
]


class LimitView(TypedDict):
    """At most ``max`` identifiers of a type, within ``window`` (an ISO 8601 duration) if set."""

    max: int
    window: str | None


class IdentityRulesView(TypedDict):
    """A workspace's identity rules (see ``docs/identity.md``)."""

    blocked: list[str]
    limits: dict[str, LimitView]
    default_limit: LimitView
    priorities: dict[str, int]
    max_merges: int
    max_identifiers: int
    trait_identifiers: dict[str, str]
    property_identifiers: dict[str, str]
    max_length: int


class IdentifierRefView(TypedDict):
    type: str
    value: str


class ProfileRefView(TypedDict):
    """A profile found by a search: enough to tell it apart in a list (its first identifiers
    and its traits' values)."""

    id: str
    kind: str
    first_seen: str
    last_seen: str
    identifiers: list[IdentifierRefView]
    traits: dict[str, Any]


class TraitView(TypedDict):
    value: Any
    updated_at: str
    message_id: str | None


class ProfileIdentifierView(TypedDict):
    type: str
    value: str
    added_at: str
    message_id: str | None
    source_id: int | None


class ProfileMergeView(TypedDict):
    survivor: str
    merged: str
    message_id: str | None
    merged_at: str
    recorded_at: str


class ProfileLinkView(TypedDict):
    profile_id: str
    message_id: str | None


class ProfileEventView(TypedDict):
    offset: int
    message_id: str
    timestamp: str
    type: str | None
    name: str | None


class IdentifierLinkView(TypedDict):
    """An edge of the identity graph: the identifiers at ``source`` and ``target`` (indexes
    into the profile's ``identifiers``) were named together by the event ``message_id`` (the
    first that did)."""

    source: int
    target: int
    message_id: str


class ProfileDetailView(TypedDict):
    """One profile: traits with update times, consent (category -> consented, from the newest
    event that carried consent preferences, ``consent_updated_at`` being its timestamp; empty
    and null before any), identity graph (``identifiers`` and the
    ``identifier_links`` between them), merges, links and its newest events; ``id`` is the live
    profile a merged-away ``requested_id`` answers for."""

    id: str
    requested_id: str
    kind: str
    first_seen: str
    last_seen: str
    traits: dict[str, TraitView]
    consent: dict[str, bool]
    consent_updated_at: str | None
    consent_message_id: str | None
    identifiers: list[ProfileIdentifierView]
    identifier_links: list[IdentifierLinkView]
    merges: list[ProfileMergeView]
    links: list[ProfileLinkView]
    events: list[ProfileEventView]


class ProfileTimelineView(TypedDict):
    """One event of a profile's timeline, with the message as stored (tracking plans applied)."""

    offset: int
    message_id: str
    timestamp: str
    type: str | None
    name: str | None
    message: dict[str, Any]


class ProfileTimelinePage(TypedDict):
    """A page of a profile's events, newest first: pass ``next`` back as ``before`` while it
    is not null."""

    id: str
    events: list[ProfileTimelineView]
    next: str | None


class CursorView(TypedDict):
    """Segment's cursor: pass ``next`` back as ``next`` while ``has_more``."""

    url: str
    has_more: bool
    next: str


class TraitsPage(TypedDict):
    traits: dict[str, Any]
    cursor: CursorView


class EventsPage(TypedDict):
    data: list[dict[str, Any]]
    cursor: CursorView


class ExternalIdView(TypedDict):
    id: str
    type: str
    source_id: str | None
    collection: str
    created_at: str
    encoding: str


class ExternalIdsPage(TypedDict):
    data: list[ExternalIdView]
    cursor: CursorView


class LinkView(TypedDict):
    to_collection: str
    external_ids: list[ExternalIdView]


class LinksPage(TypedDict):
    data: list[LinkView]
    cursor: CursorView


class ProfileMetadataView(TypedDict):
    created_at: str
    updated_at: str
    expires_at: str | None
    first_message_id: str | None
    first_source_id: str | None
    last_message_id: str | None
    last_source_id: str | None


class MetadataView(TypedDict):
    metadata: ProfileMetadataView
