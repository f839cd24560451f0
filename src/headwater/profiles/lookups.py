"""What other capabilities read of profiles (audiences today; journeys and privacy next),
as functions on a transaction's asyncpg driver. Nothing here commits or locks.

>>> await lookups.survivor(driver, workspace_id, "prf_...")   # the live id, or None
>>> await lookups.live_traits(driver, ["prf_..."])             # {id: {trait: value}}
>>> await lookups.identifiers(driver, ["prf_..."], ("email",))  # [(id, type, value), ...]

SQL that must join profile data in one statement uses :mod:`headwater.profiles.relations`
instead. Only this module, those relations and the Profile API are the capability's face.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from headwater.storage import Transaction

__all__ = [
    "identifiers",
    "last_source",
    "live_profiles",
    "live_traits",
    "survivor",
    "survivors",
    "with_identifier",
]


async def survivor(tx: Transaction, workspace_id: int, profile_id: str) -> str | None:
    """The live profile ``profile_id`` stands for in the workspace: itself when live, the
    profile it was merged into otherwise; None when the workspace has no such profile."""
    row = await tx.driver.fetchrow(
        "SELECT id, merged_into FROM profiles WHERE id = $1 AND workspace_id = $2",
        profile_id,
        workspace_id,
    )
    return None if row is None else row["merged_into"] or row["id"]


async def survivors(tx: Transaction, profiles: Mapping[str, int]) -> dict[str, str]:
    """:func:`survivor` of many: ``profiles`` maps profile id -> workspace id; the answer, the
    live id each stands for (those the workspace has no such profile for are left out)."""
    rows = await tx.driver.fetch(
        "SELECT id, workspace_id, merged_into FROM profiles WHERE id = ANY($1::text[])",
        list(profiles),
    )
    return {
        row["id"]: row["merged_into"] or row["id"]
        for row in rows
        if profiles[row["id"]] == row["workspace_id"]
    }


async def with_identifier(
    tx: Transaction, workspace_id: int, id_type: str, value: str
) -> str | None:
    """The live user profile holding the identifier (``user_id``, ``email``...) in the
    workspace, or None (identifiers always belong to live profiles: a merge moves them)."""
    found = await tx.driver.fetchval(
        "SELECT profile_id FROM identifiers WHERE workspace_id = $1 AND kind = 'user'"
        " AND type = $2 AND value = $3",
        workspace_id,
        id_type,
        value,
    )
    return None if found is None else str(found)


async def last_source(tx: Transaction, profile_id: str) -> int | None:
    """The source the profile's newest event came from (None for an unknown profile)."""
    found = await tx.driver.fetchval(
        "SELECT last_source_id FROM profiles WHERE id = $1", profile_id
    )
    return None if found is None else int(found)


async def live_profiles(tx: Transaction, workspace_id: int, profile_ids: Sequence[str]) -> set[str]:
    """Those of ``profile_ids`` that are live profiles of the workspace (not merged away)."""
    rows = await tx.driver.fetch(
        "SELECT id FROM profiles WHERE id = ANY($1::text[]) AND workspace_id = $2"
        " AND merged_into IS NULL",
        list(profile_ids),
        workspace_id,
    )
    return {row[0] for row in rows}


async def live_traits(tx: Transaction, profile_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The traits of the live profiles among ``profile_ids`` (merged-away ones are left
    out): profile id -> trait -> value, decoded exactly (a number with a fraction or an
    exponent as ``Decimal``)."""
    rows = await tx.driver.fetch(
        "SELECT id, traits::text FROM profiles WHERE id = ANY($1::text[]) AND merged_into IS NULL",
        list(profile_ids),
    )
    return {
        row[0]: {k: t.get("v") for k, t in json.loads(row[1], parse_float=Decimal).items()}
        for row in rows
    }


async def identifiers(
    tx: Transaction, profile_ids: Iterable[str], types: Sequence[str]
) -> list[tuple[str, str, str]]:
    """``(profile id, type, value)`` of the identifiers of ``types`` the profiles hold,
    oldest first (by the time added, then value)."""
    rows = await tx.driver.fetch(
        "SELECT profile_id, type, value FROM identifiers WHERE profile_id = ANY($1::text[])"
        " AND type = ANY($2::text[]) ORDER BY added_at, value",
        sorted(profile_ids),
        list(types),
    )
    return [(row[0], row[1], row[2]) for row in rows]
