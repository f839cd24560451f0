"""The read models of file imports, as the management API answers them."""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict

from headwater.imports.mapping import ImportKind
from headwater.imports.reader import FileFormat
from headwater.spec import Timestamp

__all__ = ["DryRunView", "ImportStatus", "ImportView", "MappingView", "RowErrorView"]

ImportStatus = Literal["uploaded", "queued", "running", "done", "failed"]


class MappingView(TypedDict, total=False):
    """Which column holds what (see ``headwater.imports.Mapping``); absent: no such column."""

    user_id: str
    anonymous_id: str
    group_id: str
    event: str
    timestamp: str
    key: str
    fields: dict[str, str]


class RowErrorView(TypedDict):
    """One row's problem: its number (1 is the first data row), the column at fault (null
    when the row as a whole is), and what is wrong, in plain words."""

    row: int
    column: str | None
    message: str


class ImportView(TypedDict):
    """One import: the file, its mapping, its state and counts. ``checkpoint``: rows committed
    so far (a resumed import starts after them); ``errors``: a sample of the rows refused
    (at most 100)."""

    id: int
    workspace_id: int
    source_id: int
    kind: ImportKind
    format: FileFormat
    file_name: str
    file_bytes: int
    rows_total: int
    columns: list[str]
    sample: list[dict[str, Any]]
    mapping: MappingView
    status: ImportStatus
    checkpoint: int
    imported: int
    duplicates: int
    rejected: int
    errors: list[RowErrorView]
    failure: str | None
    created_by: str | None
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None


class DryRunView(TypedDict):
    """What an import would do, nothing written: every row checked with the mapping and the
    tracking API's normalisation. ``errors`` lists the first refused rows (up to the limit
    asked), ``rejected`` counts them all."""

    rows: int
    valid: int
    rejected: int
    errors: list[RowErrorView]
    problems: list[str]
