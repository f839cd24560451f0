"""The typed read models of PII rules that the management API returns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row
from typing_extensions import TypedDict

from headwater.spec import format_timestamp

__all__ = [
    "AppliedView",
    "DismissedView",
    "InboxItemView",
    "RuleDeletedView",
    "RuleView",
    "TestView",
    "rule_view",
]


class RuleView(TypedDict):
    """A PII rule: its conditions (``path``, ``key``, ``value``, ``detector``; null when not
    used), its action and its scope (``sources``, ``destinations``: null for all sources, or at
    collection for every destination)."""

    id: int
    name: str
    path: str | None
    key: str | None
    value: str | None
    detector: str | None
    action: str
    sources: list[int] | None
    destinations: list[int] | None
    enabled: bool
    created_at: str
    updated_at: str


def rule_view(row: Row[Any]) -> RuleView:
    return {
        "id": row.id,
        "name": row.name,
        "path": row.path,
        "key": row.key,
        "value": row.value,
        "detector": row.detector,
        "action": row.action,
        "sources": list(row.sources) if row.sources is not None else None,
        "destinations": list(row.destinations) if row.destinations is not None else None,
        "enabled": row.enabled,
        "created_at": format_timestamp(row.created_at),
        "updated_at": format_timestamp(row.updated_at),
    }


class RuleDeletedView(TypedDict):
    id: int
    deleted: bool


class AppliedView(TypedDict):
    """A field a rule decided: its path, the action and the rule."""

    path: str
    action: str
    rule_id: int
    stage: str
    """``collection`` or ``destination``."""


class TestView(TypedDict):
    """The sample message after the rules (null when blocked), why it was blocked, and each
    field decided. Nothing is stored."""

    message: dict[str, Any] | None
    blocked: str | None
    fields: list[AppliedView]


class InboxItemView(TypedDict):
    """An observed field that looks personal and that no rule classifies yet."""

    path: str
    key: str
    types: dict[str, int]
    count: int
    last_seen: str | None
    source_ids: list[int]
    detected: list[str]
    """The built-in detectors that found a personal value there (empty: the key's name looks
    personal)."""


class DismissedView(TypedDict):
    path: str
    dismissed: bool
