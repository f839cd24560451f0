"""A sync's state: key -> hash of the row as last sent (``retl_state``), in Headwater's own
database. Read whole at the start of a run; written a chunk at a time as the run sends, with
``COPY`` into a temporary table and one upsert (a first run writes a million rows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from headwater.storage import Transaction

__all__ = ["Written", "forget", "identities", "load", "write"]


class Written(msgspec.Struct, frozen=True):
    """One key's new state: the hash now sent (None: never sent yet), the last error (None
    when it went through) and, in mirror mode, the identifiers it was sent with."""

    key: str
    hash: bytes | None
    error: str | None
    identity: str | None = None
    """JSON text of the identifier columns' values."""


async def load(tx: Transaction, sync_id: int) -> dict[str, bytes | None]:
    """Every key of the sync with its hash."""
    rows = await tx.driver.fetch("SELECT key, hash FROM retl_state WHERE sync_id = $1", sync_id)
    return {key: digest for key, digest in rows}


async def identities(tx: Transaction, sync_id: int, keys: Sequence[str]) -> dict[str, Any]:
    """The identifiers each of ``keys`` was last sent with (mirror mode's removals)."""
    rows = await tx.driver.fetch(
        "SELECT key, identity::text FROM retl_state WHERE sync_id = $1 AND key = ANY($2::text[])",
        sync_id,
        list(keys),
    )
    return {key: msgspec.json.decode(identity) if identity else {} for key, identity in rows}


async def write(tx: Transaction, sync_id: int, rows: Sequence[Written]) -> None:
    """Upsert ``rows`` into the sync's state; a row whose ``hash`` is None keeps the hash
    stored (a changed row that failed stays 'changed' for the next run)."""
    if not rows:
        return
    await tx.driver.execute(
        "CREATE TEMPORARY TABLE IF NOT EXISTS retl_incoming"
        ' (key text COLLATE "C", hash bytea, error text, identity jsonb) ON COMMIT DELETE ROWS'
    )
    await tx.driver.copy_records_to_table(
        "retl_incoming", records=[(r.key, r.hash, r.error, r.identity) for r in rows]
    )
    await tx.driver.execute(
        "INSERT INTO retl_state (sync_id, key, hash, error, identity)"
        " SELECT $1, key, hash, error, identity FROM retl_incoming"
        " ON CONFLICT (sync_id, key) DO UPDATE SET"
        " hash = COALESCE(EXCLUDED.hash, retl_state.hash), error = EXCLUDED.error,"
        " identity = COALESCE(EXCLUDED.identity, retl_state.identity)",
        sync_id,
    )
    await tx.driver.execute("TRUNCATE retl_incoming")


async def forget(tx: Transaction, sync_id: int, keys: Sequence[str]) -> None:
    """Drop ``keys`` from the sync's state (removed and undone, or never sent and gone)."""
    if keys:
        await tx.driver.execute(
            "DELETE FROM retl_state WHERE sync_id = $1 AND key = ANY($2::text[])",
            sync_id,
            list(keys),
        )
