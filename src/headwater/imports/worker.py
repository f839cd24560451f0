"""What the import worker process runs: read a file's next batch, map it, normalise it, and
send it back packed (:func:`headwater.imports.rows.packed`).

>>> next_packed(path, "csv", start=1, batch_rows=20_000, plan=plan, envelope=envelope)
b"..."          # rows 1 to 20,000; the next call with start=20_001 goes on from there

The rows never cross between the processes (pickling a batch of rows, there and back, cost
as much as reading it): the worker reads the file itself, and keeps it open between calls,
as long as each call starts where the one before ended (the server's checkpoint after the
batch before); another start (a resumed job, another file) opens it again at that row.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from headwater.imports.reader import FileFormat, Row, read_batches
from headwater.imports.rows import Normalised, Plan, packed
from headwater.spec import Envelope

__all__ = ["next_packed", "started"]


def started(parent: int, then: Callable[[], None] | None) -> None:
    """The worker process's start (its pool's initializer): it ends itself once the server
    process ``parent`` is gone, which a server killed (``kill -9``, the OOM killer) cannot tell
    it; then ``then``."""
    threading.Thread(target=_end_with, args=(parent,), name="parent-watch", daemon=True).start()
    if then is not None:
        then()


def _end_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


# The one file the worker has open: (its path, the number of its next row, its batches).
_open: list[tuple[Path, int, Iterator[list[Row]]]] = []


def next_packed(
    path: Path, fmt: FileFormat, *, start: int, batch_rows: int, plan: Plan, envelope: Envelope
) -> bytes | Normalised | None:
    """The batch of ``path`` from row ``start`` (numbered from 1), packed; None after the
    last row. ``ValueError`` when the file turns out unreadable."""
    held = _open.pop() if _open else None
    if held is not None and held[:2] == (path, start):
        batches = held[2]
    else:
        batches = read_batches(path, fmt, batch_rows=batch_rows, skip=start - 1)
    batch = next(batches, None)
    if batch is None:
        return None
    _open.append((path, start + len(batch), batches))
    return packed(batch, first=start, plan=plan, envelope=envelope)
