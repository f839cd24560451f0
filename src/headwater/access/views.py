"""The read models of the access capability, as the management API and the CLI show them.

``TypedDict``s, like every read model (see ``workspaces/views.py``). Times are strings in
:func:`~headwater.spec.format_timestamp`'s form. Secrets never appear.
"""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict

__all__ = ["AuditActorView", "AuditEntryView", "AuditPageView"]


class AuditActorView(TypedDict):
    """Who made a change: a person (``user_id``) or a workspace's service account, through an
    API token (``token_id``) or a web session (``session_id``)."""

    kind: Literal["user", "service_account"]
    user_id: int | None
    label: str
    """The person's email (the first owner before setting one: ``first owner``), or the
    service account token's name."""
    token_id: int | None
    session_id: int | None


class AuditEntryView(TypedDict):
    """One change through the management API, secrets redacted (``"[redacted]"``)."""

    id: int
    at: str
    workspace: str | None
    """The workspace's slug; null for an instance-level change (a workspace created, people)."""
    actor: AuditActorView
    action: str
    """``resource.verb``, as ``api/permissions.py`` names it: ``source.update``..."""
    resource: str
    """``kind:id`` (``source:12``, ``tracking_plan:orders``), or the kind alone for a change
    of a workspace-wide setting (``identity_rules``)."""
    before: Any
    """What the API showed of the resource before the change (null for a creation, or when
    the route has no read of the same resource)."""
    after: Any
    """The change's answer (null for a deletion), or its request body when it answered none."""
    ip: str | None


class AuditPageView(TypedDict):
    """A page of entries, newest first; pass ``next_cursor`` back as ``before`` for the next
    (null at the end)."""

    data: list[AuditEntryView]
    next_cursor: int | None
