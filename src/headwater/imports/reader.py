"""Reading import files row by row: CSV, JSON Lines and Parquet, streamed in batches.

>>> for batch in read_batches(Path("people.csv"), "csv", batch_rows=10_000):
...     for row in batch:  # a dict of column to value, or a BadRow with its reason
...         ...

Nothing reads a whole file: CSV and JSON Lines are read line by line, Parquet a record batch
at a time through pyarrow. Rows are numbered from 1, the first data row (a CSV's header is
row 0); a blank JSON Lines line still counts, so a row's number is its line in the file.

Values keep their types: JSON Lines and Parquet carry their own (Parquet timestamps and dates
become ISO-8601 strings, decimals numbers); CSV cells arrive as strings and the mapping types
them (:func:`headwater.imports.mapping.typed`). An empty CSV cell is ``None``. A NUL character
(which PostgreSQL cannot store) becomes U+FFFD, as the tracking API makes it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal

import msgspec

from headwater.spec import format_timestamp

__all__ = [
    "FORMATS",
    "BadRow",
    "FileFormat",
    "Row",
    "format_of",
    "parquet_outline",
    "read_batches",
    "survey",
]

FileFormat = Literal["csv", "jsonl", "parquet"]
FORMATS: Final[tuple[FileFormat, ...]] = ("csv", "jsonl", "parquet")

_SUFFIXES: Final[dict[str, FileFormat]] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_CONTENT_TYPES: Final[dict[str, FileFormat]] = {
    "text/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/jsonlines": "jsonl",
    "application/x-jsonlines": "jsonl",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
}


class BadRow(msgspec.Struct, frozen=True):
    """A row that could not be read at all (not JSON, not an object)."""

    reason: str


Row = dict[str, Any] | BadRow


def format_of(name: str | None, content_type: str | None) -> FileFormat | None:
    """The format a file name's suffix or a content type names, or None."""
    if content_type:
        found = _CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
        if found:
            return found
    if name:
        return _SUFFIXES.get(Path(name).suffix.lower())
    return None


def read_batches(
    path: Path, fmt: FileFormat, *, batch_rows: int, skip: int = 0
) -> Iterator[list[Row]]:
    """Batches of at most ``batch_rows`` rows, after the first ``skip`` rows (a resumed import
    starts after its checkpoint). A file that cannot be read at all (not CSV, a broken Parquet
    footer) raises ``ValueError`` with the reason."""
    rows = {"csv": _csv_rows, "jsonl": _jsonl_rows, "parquet": _parquet_rows}[fmt](path)
    batch: list[Row] = []
    for number, row in enumerate(rows, start=1):
        if number <= skip:
            continue
        batch.append(row)
        if len(batch) >= batch_rows:
            yield batch
            batch = []
    if batch:
        yield batch


def _csv_rows(path: Path) -> Iterator[Row]:
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(line.replace("\x00", "\ufffd") for line in handle)
        try:
            header = next(reader, None)
            if header is None:
                return
            names = [name.strip() for name in header]
            width = len(names)
            for cells in reader:
                if len(cells) != width:
                    yield BadRow(f"has {len(cells)} cells where the header has {width}")
                    continue
                yield {
                    name: (cell if cell != "" else None)
                    for name, cell in zip(names, cells, strict=True)
                }
        except (csv.Error, UnicodeDecodeError) as error:
            raise ValueError(f"not a readable CSV file: {error}") from None


def _jsonl_rows(path: Path) -> Iterator[Row]:
    decoder = msgspec.json.Decoder()
    with path.open("rb") as handle:
        for line in handle:
            if not line.strip():
                yield BadRow("is blank")
                continue
            if b"\\u0000" in line:  # an escaped backslash before u0000 is changed too: rare
                line = line.replace(b"\\u0000", b"\\ufffd")
            try:
                value = decoder.decode(line)
            except msgspec.DecodeError:
                yield BadRow("is not valid JSON")
                continue
            if not isinstance(value, dict):
                yield BadRow("is not a JSON object")
                continue
            yield value


def _parquet_rows(path: Path) -> Iterator[Row]:
    import pyarrow as pa  # heavy: imported when a Parquet file is read
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=10_000):
            for row in batch.to_pylist():
                yield {name: _plain(value) for name, value in row.items()}
    except (pa.ArrowException, OSError) as error:
        raise ValueError(f"not a readable Parquet file: {error}") from None


def survey(
    path: Path, fmt: FileFormat, *, sample_rows: int
) -> tuple[list[str], list[dict[str, Any]], int]:
    """A file's columns (first seen first), its first ``sample_rows`` rows, and how many rows
    it has: a Parquet file's from its footer and first rows, another's by reading it through.
    ``ValueError`` when the file is not readable as ``fmt``."""
    if fmt == "parquet":
        columns, rows = parquet_outline(path)
        first = next(read_batches(path, fmt, batch_rows=sample_rows), [])
        return columns, [row for row in first if isinstance(row, dict)], rows
    names: dict[str, None] = {}
    sample: list[dict[str, Any]] = []
    rows = 0
    for batch in read_batches(path, fmt, batch_rows=10_000):
        for row in batch:
            if isinstance(row, dict):
                names.update(dict.fromkeys(row))
                if len(sample) < sample_rows:
                    sample.append(row)
        rows += len(batch)
    return list(names), sample, rows


def parquet_outline(path: Path) -> tuple[list[str], int]:
    """A Parquet file's columns and row count, from its footer alone (nothing else is read);
    ``ValueError`` when it is not Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise ValueError(f"not a readable Parquet file: {error}") from None
    return list(parquet.schema_arrow.names), int(parquet.metadata.num_rows)


def _plain(value: Any) -> Any:
    """A Parquet value as JSON has it."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, datetime):
        return format_timestamp(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
