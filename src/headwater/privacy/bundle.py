"""A subject access export's two files, written at once: one JSON document and a ZIP of CSV
files (one per table), each to a temporary file, so that a person's events pass through a page
at a time and are never all in memory.

>>> bundle = Bundle()
>>> bundle.section("identifiers", [{"type": "user_id", "value": "u-1"}])
>>> bundle.table("identifiers", ("type", "value"), [("user_id", "u-1")])
>>> async with bundle.events() as add:
...     add(entry)                      # each LogEntry of the person, oldest first
>>> document, archive = bundle.close()  # the files, at their start (binary, seekable)

The JSON document holds the sections in the order given, ``events`` last (each event as the log
stored it). In the CSV files, a text is as it is, null is empty, and every other value (a
number, a boolean, an object) is its JSON text. Times, in both, are written as every answer of
the API writes them (``2026-12-06T21:30:51.363Z``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
import zipfile
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import datetime
from typing import IO, Any, Final

import msgspec

from headwater.log import LogEntry
from headwater.spec import encode_message, format_timestamp

__all__ = ["EVENT_COLUMNS", "Bundle", "cell"]

EVENT_COLUMNS: Final = (
    "message_id",
    "type",
    "event",
    "user_id",
    "anonymous_id",
    "timestamp",
    "received_at",
    "source_id",
    "message",
)
"""``events.csv``: the indexed fields of each event, and the whole message as JSON text."""

_encoder: Final = msgspec.json.Encoder(decimal_format="number")


def _times(value: Any) -> Any:
    """``value`` with every time in it written as every answer of Headwater writes one
    (``spec.format_timestamp``: UTC, milliseconds, ``Z``)."""
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, dict):
        return {key: _times(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_times(item) for item in value]
    return value


def cell(value: Any) -> str:
    """A value as a CSV cell (see the module)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return format_timestamp(value)
    return _encoder.encode(_times(value)).decode()


class Bundle:
    """The two files of one export, being written (see the module)."""

    def __init__(self) -> None:
        self._head = _scratch()
        self._events = _scratch()
        self._archive = _scratch()
        self._zip = zipfile.ZipFile(self._archive, "w", compression=zipfile.ZIP_DEFLATED)
        self._head.write(b"{")
        self._first = True
        self.counts: dict[str, int] = {}

    def section(self, key: str, value: Any) -> None:
        """One section of the JSON document."""
        if not self._first:
            self._head.write(b",")
        self._first = False
        self._head.write(_encoder.encode(key) + b":" + _encoder.encode(_times(value)))

    def table(self, name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """``{name}.csv`` in the ZIP, with a header row."""
        with self._zip.open(f"{name}.csv", "w") as raw, _text(raw) as text:
            writer = csv.writer(text)
            writer.writerow(columns)
            writer.writerows([cell(value) for value in row] for row in rows)

    @contextlib.asynccontextmanager
    async def events(self) -> AsyncIterator[Callable[[LogEntry], None]]:
        """``events.csv`` and the document's ``events``: the function yielded adds one."""
        count = 0
        with self._zip.open("events.csv", "w") as raw, _text(raw) as text:
            writer = csv.writer(text)
            writer.writerow(EVENT_COLUMNS)

            def add(entry: LogEntry) -> None:
                nonlocal count
                message = encode_message(entry.message)
                if count:
                    self._events.write(b",")
                self._events.write(message)
                count += 1
                writer.writerow(
                    [
                        entry.message_id,
                        entry.type,
                        entry.name or "",
                        entry.user_id or "",
                        entry.anonymous_id or "",
                        format_timestamp(entry.timestamp),
                        format_timestamp(entry.received_at),
                        str(entry.source_id),
                        message.decode(),
                    ]
                )

            yield add
        self.counts["events"] = count

    def close(self) -> tuple[IO[bytes], IO[bytes]]:
        """The JSON document and the ZIP, complete, each read from its start."""
        self._zip.close()
        document = _scratch()
        self._head.seek(0)
        _copy(self._head, document)
        document.write(b"," if not self._first else b"")
        document.write(b'"events":[')
        self._events.seek(0)
        _copy(self._events, document)
        document.write(b"]}")
        self._head.close()
        self._events.close()
        document.seek(0)
        self._archive.seek(0)
        return document, self._archive

    def discard(self) -> None:
        """Drop the files (an export that failed)."""
        self._zip.close()
        for file in (self._head, self._events, self._archive):
            file.close()


def _scratch() -> IO[bytes]:
    """A temporary file, gone once closed (by :meth:`Bundle.close`, :meth:`Bundle.discard`
    or the caller of close)."""
    return tempfile.TemporaryFile()


def _text(raw: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def _copy(source: IO[bytes], target: IO[bytes]) -> None:
    while chunk := source.read(1 << 20):
        target.write(chunk)
