"""Models and syncs as the rest of the package holds them, decoded once from their rows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from headwater.retl.model import Mapping
from headwater.retl.schedule import Schedule

__all__ = ["ModelRecord", "SyncRecord", "decode_mark", "encode_mark"]


class ModelRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    workspace_id: int
    name: str
    connection: dict[str, Any]
    """``{"url": {"$secret": ...}, "shown": "postgresql://user:***@host/db"}``"""
    query: str
    primary_key: str
    cursor_column: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> ModelRecord:
        values = dict(row)
        values["connection"] = msgspec.json.decode(values["connection"])
        return cls(**values)


class SyncRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    workspace_id: int
    model_id: int
    name: str
    target: str
    message_type: str
    destination_id: int | None
    source_id: int
    mode: str
    mapping: Mapping
    schedule: Schedule
    enabled: bool
    next_run_at: datetime | None
    run_requested: bool
    lease_until: datetime | None
    cursor_mark: Any
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> SyncRecord:
        values = {k: row[k] for k in cls.__struct_fields__}
        values["mapping"] = msgspec.json.decode(values["mapping"], type=Mapping)
        values["schedule"] = msgspec.json.decode(values["schedule"], type=Schedule)
        mark = values["cursor_mark"]
        values["cursor_mark"] = None if mark is None else msgspec.json.decode(mark)
        return cls(**values)


def encode_mark(value: Any) -> dict[str, Any] | None:
    """A cursor value as stored (JSON with its type), to be read back by :func:`decode_mark`
    as the same Python value for the next run's query parameter."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return {"type": "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {"type": "date", "value": value.isoformat()}
    if isinstance(value, Decimal):
        return {"type": "decimal", "value": str(value)}
    if isinstance(value, bool | int | float | str):
        return {"type": "plain", "value": value}
    return {"type": "text", "value": str(value)}


def decode_mark(stored: dict[str, Any] | None) -> Any:
    if stored is None:
        return None
    kind, value = stored["type"], stored["value"]
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "decimal":
        return Decimal(value)
    return value
