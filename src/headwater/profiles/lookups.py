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
from datetime import datetime
from decimal import Decimal
from typing import Any

from headwater.storage import Transaction

__all__ = [
    "event_offsets",
    "family",
    "identifiers",
    "last_source",
    "live_consent",
    "live_profiles",
    "live_traits",
    "resolve",
    "survivor",
    "survivors",
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


# Each step is a LATERAL ... LIMIT 1 (never flattened into a join): one primary-key probe per
# identifier and per link, whatever the planner believes about the tables. As a join, a store
# filled faster than autovacuum analyzes it (no statistics yet) was read whole: the workspace's
# every identifier hashed on each call, 90 ms at 32,000 identifiers, and more as it grows.
_RESOLVE = (
    "WITH RECURSIVE wanted AS ("
    "  SELECT n, t, v FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS w(t, v, n)),"
    " start AS ("
    "  SELECT w.n, CASE WHEN w.t = 'profile_id' THEN w.v ELSE i.profile_id END AS id"
    "  FROM wanted w LEFT JOIN LATERAL (SELECT profile_id FROM identifiers"
    "   WHERE w.t <> 'profile_id' AND workspace_id = $1 AND kind = 'user'"
    '   AND type = w.t COLLATE "C" AND value = w.v COLLATE "C" LIMIT 1) AS i ON true),'
    " chain(n, id, merged_into, depth) AS ("
    "  SELECT s.n, p.id, p.merged_into, 0 FROM start s"
    '  CROSS JOIN LATERAL (SELECT id, merged_into FROM profiles WHERE id = s.id COLLATE "C"'
    "   AND workspace_id = $1 AND kind = 'user' LIMIT 1) AS p"
    "  UNION ALL"
    "  SELECT c.n, p.id, p.merged_into, c.depth + 1 FROM chain c"
    "  CROSS JOIN LATERAL (SELECT id, merged_into FROM profiles"
    '   WHERE id = c.merged_into COLLATE "C" LIMIT 1) AS p WHERE c.depth < 200)'
    " SELECT n, id FROM chain WHERE merged_into IS NULL"
)


async def resolve(
    tx: Transaction, workspace_id: int, wanted: Sequence[tuple[str, str]]
) -> list[str | None]:
    """The live user profile each ``(type, value)`` of ``wanted`` names, in order (None for
    one that names none): an identifier of the identity graph (``user_id``,
    ``anonymous_id``, ``email`` as stored: lower case), or ``profile_id``, a profile id old
    or new (a merged-away one names the profile it was merged into)."""
    rows = await tx.driver.fetch(
        _RESOLVE, workspace_id, [w[0] for w in wanted], [w[1] for w in wanted]
    )
    found: list[str | None] = [None] * len(wanted)
    for n, profile_id in rows:
        found[n - 1] = profile_id
    return found


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


async def live_consent(tx: Transaction, profile_ids: Sequence[str]) -> dict[str, dict[str, bool]]:
    """The consent of the live profiles among ``profile_ids`` that have one: profile id ->
    category -> consented (their newest ``categoryPreferences``; see
    :mod:`headwater.profiles.consent`). A profile that never sent preferences is left out."""
    rows = await tx.driver.fetch(
        "SELECT id, (consent -> 'c')::text FROM profiles WHERE id = ANY($1::text[])"
        " AND merged_into IS NULL AND consent IS NOT NULL",
        list(profile_ids),
    )
    return {row[0]: {k: v is True for k, v in json.loads(row[1]).items()} for row in rows}


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


# The merges are walked through ``profiles_merged_into`` (migration 0024), and the identifiers
# read by ``profile_id = ANY`` of the profiles found: a join there was planned, on tables not
# yet analyzed, as a hash of the workspace's every identifier.
_FAMILY = (
    "WITH RECURSIVE tree(id) AS ("
    "  SELECT id FROM profiles WHERE id = $1 AND workspace_id = $2"
    "  UNION"
    "  SELECT p.id FROM profiles p JOIN tree t ON p.merged_into = t.id"
    "  WHERE p.workspace_id = $2)"
    " SELECT id, NULL AS type, NULL AS value FROM tree"
    " UNION ALL"
    " SELECT profile_id, type, value FROM identifiers"
    " WHERE profile_id = ANY(ARRAY(SELECT id FROM tree)) AND workspace_id + 0 = $2"
)
"""The identifiers are found by profile (``identifiers_profile``) and the workspace checked on
the rows found: ``+ 0`` keeps it from becoming an index condition, which without statistics
the planner may answer by reading the workspace's every identifier in the primary key."""


async def family(
    tx: Transaction, workspace_id: int, profile_id: str
) -> tuple[list[str], list[tuple[str, str]]]:
    """The live profile ``profile_id`` and every profile ever merged into it (directly or
    through others), with every identifier they hold as ``(type, value)``: the whole person
    as the identity graph knows it. Both lists sorted; empty for an unknown profile.

    >>> await lookups.family(tx, 1, "prf_a")
    (['prf_a', 'prf_b'], [('anonymous_id', 'a-1'), ('email', 'ann@example.com'), ...])
    """
    rows = await tx.driver.fetch(_FAMILY, profile_id, workspace_id)
    profiles = sorted({row[0] for row in rows})
    found = sorted({(row[1], row[2]) for row in rows if row[1] is not None})
    return profiles, found


async def event_offsets(
    tx: Transaction,
    workspace_id: int,
    profile_ids: Sequence[str],
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[tuple[datetime, str, int]]:
    """Up to ``limit`` of the events the profiles took in, oldest first: ``(timestamp,
    messageId, log offset)``, after the key ``after`` (the last of the previous page). A
    merge moves the merged profile's events to the survivor, so a person's are under its
    live profile; the events themselves are read from the log by offset."""
    rows = await tx.driver.fetch(
        "SELECT timestamp, message_id, seq FROM profile_events"
        " WHERE workspace_id = $1 AND kind = 'user' AND profile_id = ANY($2::text[])"
        " AND ($3::timestamptz IS NULL OR (timestamp, message_id) > ($3::timestamptz, $4::text))"
        " ORDER BY timestamp, message_id LIMIT $5",
        workspace_id,
        list(profile_ids),
        None if after is None else after[0],
        None if after is None else after[1],
        limit,
    )
    return [(row[0], row[1], row[2]) for row in rows]
