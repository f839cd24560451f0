"""Workspaces and sources as plain values."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

__all__ = ["Source", "SourceKind", "Workspace"]

SourceKind = Literal["server", "client", "webhook"]


class Workspace(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    slug: str
    name: str
    created_at: datetime


class Source(msgspec.Struct, frozen=True, kw_only=True):
    """A place events come from. ``kind`` client: ``context.ip`` is filled from the connection;
    ``strict``: invalid events fail the whole request with 400 instead of being recorded."""

    id: int
    workspace_id: int
    workspace: str
    name: str
    write_key: str
    kind: SourceKind
    strict: bool
    enabled: bool
    created_at: datetime
