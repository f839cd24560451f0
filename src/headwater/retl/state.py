"""A sync's state: key -> hash of the row as last sent (``retl_state``), in Headwater's own
database. Read whole at the start of a run; written a chunk at a time as the run sends, with
``COPY`` into a temporary table and one upsert (a first run writes a million rows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from headwater.storage import Transaction
from headwater.storage.erasure import holds_any, removed

__all__ = ["Written", "forget", "forget_person", "identities", "load", "write"]


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


_FORGET_KEYS = """
DELETE FROM retl_state s USING retl_syncs y
WHERE y.workspace_id = $1 AND s.sync_id = y.id AND s.key = ANY($2::text[])
"""

# Mirror syncs keep the identifiers each key was sent with: read whole (one workspace's
# mirror syncs), as the key need not be one of the person's identifiers.
_FORGET_IDENTITIES = """
DELETE FROM retl_state s USING retl_syncs y
WHERE y.workspace_id = $1 AND y.mode = 'mirror' AND s.sync_id = y.id AND s.identity IS NOT NULL
  AND EXISTS (SELECT 1 FROM jsonb_each_text(s.identity) AS e(name, value)
              WHERE lower(e.value) = ANY($2::text[]))
"""

_FORGET_FAILURES = f"""
UPDATE retl_runs r SET failures = (
    SELECT coalesce(jsonb_agg(f.item ORDER BY f.n), '[]'::jsonb)
    FROM jsonb_array_elements(r.failures) WITH ORDINALITY AS f(item, n)
    WHERE NOT {holds_any("f.item", "$2::text[]")})
FROM retl_syncs y
WHERE y.workspace_id = $1 AND r.sync_id = y.id AND r.failures <> '[]'::jsonb
  AND {holds_any("r.failures", "$2::text[]")}
"""


async def forget_person(
    tx: Transaction, workspace_id: int, keys: Sequence[str], values: Sequence[str]
) -> dict[str, int]:
    """Remove a person from the workspace's syncs: the state of the rows keyed by one of
    ``keys`` (their identifiers as given) or, in mirror syncs, sent with one of ``values``
    (their identifiers, lower case), and the failure samples of runs that name one of
    ``values``; return rows removed (``retl_state``) and runs whose samples changed
    (``retl_failures``). A row of the customer's model that still holds the person is then
    new to its sync: its next run sends it again, unless the person is suppressed."""
    lowered = sorted(set(values))
    state = removed(await tx.driver.execute(_FORGET_KEYS, workspace_id, sorted(set(keys))))
    state += removed(await tx.driver.execute(_FORGET_IDENTITIES, workspace_id, lowered))
    runs = removed(await tx.driver.execute(_FORGET_FAILURES, workspace_id, lowered))
    return {"retl_state": state, "retl_failures": runs}
