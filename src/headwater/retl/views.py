"""Reverse ETL's read models, as the management API declares them. A model's connection is
shown with its password masked (``postgresql://reader:***@db/shop``), never in full."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
from typing_extensions import TypedDict

from headwater.retl.records import ModelRecord, SyncRecord
from headwater.spec import format_timestamp

__all__ = [
    "ModelPreviewView",
    "ModelView",
    "RunView",
    "SyncView",
    "model_view",
    "run_view",
    "sync_view",
]


class ModelView(TypedDict):
    id: int
    name: str
    connection: str
    """The URL with its password masked."""
    query: str
    primary_key: str
    cursor_column: str | None
    created_at: str
    updated_at: str


class ModelPreviewView(TypedDict):
    columns: list[str]
    rows: list[list[Any]]
    """At most the limit asked for, values as JSON (dates as ISO-8601 text)."""
    problems: list[str]
    """What would stop a sync of these rows (the primary key missing, empty or repeated)."""


class RunFailureView(TypedDict):
    key: str
    reason: str


class RunView(TypedDict):
    id: int
    sync_id: int
    status: str
    """``running``, ``succeeded`` (rows may still have failed: see ``failed``), ``failed``
    (the run could not go on: see ``reason``) or ``interrupted`` (its process stopped)."""
    trigger: str
    """``schedule``, ``manual`` or ``recovery`` (a run again after an interrupted one)."""
    started_at: str
    finished_at: str | None
    rows_read: int
    added: int
    changed: int
    removed: int
    failed: int
    reason: str | None
    failures: list[RunFailureView]


class SyncView(TypedDict):
    id: int
    name: str
    model_id: int
    target: str
    message_type: str
    destination_id: int | None
    source_id: int
    mode: str
    mapping: dict[str, Any]
    schedule: dict[str, Any]
    enabled: bool
    next_run_at: str | None
    run_requested: bool
    running: bool
    last_run: RunView | None
    created_at: str
    updated_at: str


def model_view(model: ModelRecord) -> ModelView:
    return {
        "id": model.id,
        "name": model.name,
        "connection": str(model.connection.get("shown", "")),
        "query": model.query,
        "primary_key": model.primary_key,
        "cursor_column": model.cursor_column,
        "created_at": format_timestamp(model.created_at),
        "updated_at": format_timestamp(model.updated_at),
    }


def run_view(row: asyncpg.Record) -> RunView:
    return {
        "id": row["id"],
        "sync_id": row["sync_id"],
        "status": row["status"],
        "trigger": row["trigger"],
        "started_at": format_timestamp(row["started_at"]),
        "finished_at": None if row["finished_at"] is None else format_timestamp(row["finished_at"]),
        "rows_read": row["rows_read"],
        "added": row["added"],
        "changed": row["changed"],
        "removed": row["removed"],
        "failed": row["failed"],
        "reason": row["reason"],
        "failures": msgspec.json.decode(row["failures"]),
    }


def sync_view(sync: SyncRecord, last_run: RunView | None) -> SyncView:
    return {
        "id": sync.id,
        "name": sync.name,
        "model_id": sync.model_id,
        "target": sync.target,
        "message_type": sync.message_type,
        "destination_id": sync.destination_id,
        "source_id": sync.source_id,
        "mode": sync.mode,
        "mapping": msgspec.to_builtins(sync.mapping),
        "schedule": msgspec.to_builtins(sync.schedule),
        "enabled": sync.enabled,
        "next_run_at": None if sync.next_run_at is None else format_timestamp(sync.next_run_at),
        "run_requested": sync.run_requested,
        "running": last_run is not None and last_run["status"] == "running",
        "last_run": last_run,
        "created_at": format_timestamp(sync.created_at),
        "updated_at": format_timestamp(sync.updated_at),
    }
