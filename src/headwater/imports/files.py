"""The imports folder's housekeeping: uploads not started in time are ended, and files that
will not be imported any more are deleted (they hold personal data).

>>> await sweep(engine, data_dir / "imports", hours=24)
[17]    # the uploads ended now

The folder holds ``<id>.<format>`` (an uploaded file, while its import may still run) and
``upload-<random>`` (a file being received). A file is deleted when its import is done,
failed, expired or ended by a deletion request (:func:`headwater.imports.forget_person`), or
is not in this database; a file being received, once it is older than ``hours`` (its process
died mid-upload).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.imports import store
from headwater.storage import connected, transaction

__all__ = ["sweep"]


async def sweep(engine: AsyncEngine, folder: Path, *, hours: int) -> list[int]:
    """End (failed, saying why) the uploads not started within ``hours``, then delete the
    files of ``folder`` no import needs; return the ids of the uploads ended now."""
    async with transaction(engine) as tx:
        expired = await store.expire_uploads(
            tx,
            hours=hours,
            failure=f"not started within {hours} hours (HEADWATER_IMPORT_UPLOAD_TTL_HOURS):"
            " upload the file again",
        )
    found = await asyncio.to_thread(_listing, folder)
    if found:
        async with connected(engine) as tx:
            waiting = await store.waiting(tx, [i for i in found.values() if i is not None])
        await asyncio.to_thread(_delete, found, waiting, time.time() - hours * 3600)
    return expired


def _listing(folder: Path) -> dict[Path, int | None]:
    """Each file of ``folder`` (none when it does not exist yet) with its import's id."""
    return {path: _job_id(path) for path in folder.iterdir()} if folder.exists() else {}


def _delete(found: dict[Path, int | None], waiting: set[int], stale: float) -> None:
    for path, job_id in found.items():
        if job_id is None:
            if _older(path, stale):
                path.unlink(missing_ok=True)
        elif job_id not in waiting:
            path.unlink(missing_ok=True)


def _job_id(path: Path) -> int | None:
    """The import a file belongs to (``<id>.<format>``), or None for an upload still being
    received (``upload-<random>``)."""
    stem = path.name.split(".", 1)[0]
    return int(stem) if stem.isdigit() else None


def _older(path: Path, moment: float) -> bool:
    """Whether ``path`` was last written before ``moment``; False once it is gone (an upload
    that finished meanwhile was renamed)."""
    try:
        return path.stat().st_mtime < moment
    except FileNotFoundError:
        return False
