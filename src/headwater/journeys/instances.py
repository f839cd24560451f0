"""The journey runtime's SQL: instances entered, found, woken, claimed, moved and ended, and
their steps. Statements go to the transaction's asyncpg driver; nothing here commits.

Running instances are ``active`` (due to move on now) or ``waiting`` (until ``wake_at``, or an
event); ``wake_at`` set and past is what the runner claims, with ``FOR UPDATE SKIP LOCKED`` so
that any number of runners share the work and none takes an instance another holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import asyncpg

from headwater.audiences import decode_json, encode_json
from headwater.journeys.graph import Journey, relocate
from headwater.profiles.relations import PROFILES
from headwater.storage import Transaction, removed

__all__ = [
    "CHANNEL",
    "Entering",
    "Instance",
    "Step",
    "Woken",
    "claim_due",
    "convert",
    "end",
    "end_journey",
    "enter",
    "forget_profiles",
    "history",
    "live_workspaces",
    "move_to_version",
    "node_counts",
    "of_profiles",
    "published_at",
    "running_journeys",
    "running_of",
    "save",
    "totals",
    "version_document",
    "wake",
]

CHANNEL: Final = "headwater_journeys"
"""Notified when instances become due now, so that a runner takes them at once."""


async def running_journeys(tx: Transaction, workspace_id: int) -> list[asyncpg.Record]:
    """The workspace's live and paused journeys with the document of the version they run."""
    return list(
        await tx.driver.fetch(
            "SELECT j.id, j.workspace_id, j.key, j.version, j.state,"
            " v.document::text AS document FROM journeys j"
            " JOIN journey_versions v ON v.journey_id = j.id AND v.version = j.version"
            " WHERE j.workspace_id = $1 AND j.state IN ('live', 'paused')",
            workspace_id,
        )
    )


async def live_workspaces(tx: Transaction) -> list[int]:
    """The workspaces with a live journey."""
    rows = await tx.driver.fetch("SELECT DISTINCT workspace_id FROM journeys WHERE state = 'live'")
    return [row[0] for row in rows]


async def published_at(tx: Transaction, journey_id: int, version: int) -> datetime:
    found = await tx.driver.fetchval(
        "SELECT published_at FROM journey_versions WHERE journey_id = $1 AND version = $2",
        journey_id,
        version,
    )
    assert isinstance(found, datetime)  # the version a journey runs exists
    return found


async def version_document(tx: Transaction, journey_id: int, version: int) -> Any:
    text = await tx.driver.fetchval(
        "SELECT document::text FROM journey_versions WHERE journey_id = $1 AND version = $2",
        journey_id,
        version,
    )
    return None if text is None else decode_json(text)


@dataclass(frozen=True)
class Entering:
    """A profile entering a journey at its start node."""

    workspace_id: int
    journey_id: int
    version: int
    profile_id: str
    instance_key: str
    trigger_id: str
    start: str
    context: dict[str, Any]
    goal_until: datetime | None


async def enter(tx: Transaction, entering: Sequence[Entering], now: datetime) -> int:
    """Insert the instances; one whose trigger already entered someone, or whose profile
    already runs the journey with that key, is left out. Returns how many entered."""
    if not entering:
        return 0
    rows = await tx.driver.fetch(
        "INSERT INTO journey_instances (workspace_id, journey_id, version, profile_id,"
        " instance_key, trigger_id, state, node_id, node_since, wake_at, context, entered_at,"
        " goal_until)"
        " SELECT w, j, v, p, k, t, 'active', s, $8, $8, c::jsonb, $8, g"
        " FROM unnest($1::int[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[],"
        " $7::text[], $9::text[], $10::timestamptz[]) AS x(w, j, v, p, k, t, s, c, g)"
        " ON CONFLICT DO NOTHING RETURNING id",
        [e.workspace_id for e in entering],
        [e.journey_id for e in entering],
        [e.version for e in entering],
        [e.profile_id for e in entering],
        [e.instance_key for e in entering],
        [e.trigger_id for e in entering],
        [e.start for e in entering],
        now,
        [encode_json(e.context) for e in entering],
        [e.goal_until for e in entering],
    )
    if rows:
        await tx.driver.execute("SELECT pg_notify($1, '')", CHANNEL)
    return len(rows)


@dataclass(frozen=True)
class History:
    ever: bool
    last_entered_at: datetime | None
    running: tuple[str, ...]


async def history(
    tx: Transaction, journey_ids: Sequence[int], profile_ids: Sequence[str]
) -> dict[tuple[int, str], History]:
    """Each (journey, profile)'s entries so far, for the entry rules."""
    rows = await tx.driver.fetch(
        "SELECT journey_id, profile_id, max(entered_at),"
        " array_agg(instance_key) FILTER (WHERE state IN ('active', 'waiting'))"
        " FROM journey_instances WHERE journey_id = ANY($1::int[])"
        " AND profile_id = ANY($2::text[]) GROUP BY journey_id, profile_id",
        list(journey_ids),
        list(profile_ids),
    )
    return {(r[0], r[1]): History(True, r[2], tuple(r[3] or ())) for r in rows}


@dataclass
class Instance:
    """A running instance as the runtime moves it."""

    id: int
    workspace_id: int
    journey_id: int
    version: int
    profile_id: str
    state: str
    node_id: str
    node_since: datetime
    wake_at: datetime | None
    port: str | None
    step: int
    context: dict[str, Any]
    entered_at: datetime
    goal_until: datetime | None
    converted_at: datetime | None = None
    note: str | None = None
    """What goes with ``port`` when something woke the instance (the event, the call's answer)."""
    ended_at: datetime | None = None
    end_reason: str | None = None
    error: str | None = None


_COLUMNS = (
    "i.id, i.workspace_id, i.journey_id, i.version, i.profile_id, i.state, i.node_id,"
    " i.node_since, i.wake_at, i.port, i.step, i.context::text AS context, i.entered_at,"
    " i.goal_until, i.converted_at, i.note"
)


def _instance(row: asyncpg.Record) -> Instance:
    values = dict(row)
    values["context"] = decode_json(values["context"])
    return Instance(**values)


async def running_of(
    tx: Transaction, workspace_id: int, profile_ids: Sequence[str]
) -> dict[str, list[Instance]]:
    """The running instances of the profiles (entered as them, or as profiles merged into
    them since), locked; live profile id -> instances. Instances whose goal window is still
    open count too (ended, not yet converted)."""
    rows = await tx.driver.fetch(
        f"SELECT coalesce(p.merged_into, p.id) AS live, {_COLUMNS}"
        f" FROM journey_instances i JOIN {PROFILES} p ON p.id = i.profile_id"
        " WHERE i.workspace_id = $1 AND (p.id = ANY($2::text[]) OR p.merged_into = ANY($2))"
        " AND (i.state IN ('active', 'waiting')"
        "      OR (i.converted_at IS NULL AND i.goal_until > now()))"
        " ORDER BY i.id FOR UPDATE OF i",
        workspace_id,
        list(profile_ids),
    )
    found: dict[str, list[Instance]] = {}
    for row in rows:
        values = dict(row)
        live = values.pop("live")
        values["context"] = decode_json(values["context"])
        found.setdefault(live, []).append(Instance(**values))
    return found


@dataclass(frozen=True)
class Woken:
    """A waiting instance moved on through ``port``, if it is still at ``node_id``."""

    instance_id: int
    node_id: str
    port: str
    note: str


async def wake(tx: Transaction, woken: Sequence[Woken]) -> None:
    """Waiting instances that an event or a call's answer moves on through a port, due now
    (one that moved elsewhere meanwhile, by a live edit, is left as it is)."""
    if not woken:
        return
    await tx.driver.execute(
        "UPDATE journey_instances i SET state = 'active', port = w.port, note = w.note,"
        " wake_at = now() FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])"
        " AS w(id, node_id, port, note)"
        " WHERE i.id = w.id AND i.node_id = w.node_id AND i.state = 'waiting'",
        [w.instance_id for w in woken],
        [w.node_id for w in woken],
        [w.port for w in woken],
        [w.note for w in woken],
    )
    await tx.driver.execute("SELECT pg_notify($1, '')", CHANNEL)


async def end(tx: Transaction, ids: Sequence[int], reason: str, at: datetime) -> None:
    """Running instances that stop where they are (an exit rule, the journey archived)."""
    await tx.driver.execute(
        "UPDATE journey_instances SET state = 'exited', end_reason = $2, ended_at = $3,"
        " wake_at = NULL WHERE id = ANY($1::bigint[]) AND state IN ('active', 'waiting')",
        list(ids),
        reason,
        at,
    )


async def end_journey(tx: Transaction, journey_id: int, reason: str) -> None:
    """Every running instance of the journey stops where it is."""
    await tx.driver.execute(
        "UPDATE journey_instances SET state = 'exited', end_reason = $2, ended_at = now(),"
        " wake_at = NULL WHERE journey_id = $1 AND state IN ('active', 'waiting')",
        journey_id,
        reason,
    )


_HELD_BY_CONFIG = frozenset({"delay", "wait_event"})


async def move_to_version(
    tx: Transaction, journey_id: int, old: Journey, new: Journey, version: int
) -> None:
    """The journey's running instances go on in ``version`` (``new``), by node id: where
    their node is gone, at its successor (see :func:`~headwater.journeys.graph.relocate`), or
    they exit (``node_removed``) when nothing follows; a delay or a wait whose settings changed
    is worked out again from when it began (``node_since`` kept). Done steps stay done."""
    rows = await tx.driver.fetch(
        "SELECT DISTINCT node_id FROM journey_instances"
        " WHERE journey_id = $1 AND state IN ('active', 'waiting')",
        journey_id,
    )
    for (node_id,) in rows:
        target = relocate(old, new, node_id)
        if target is None:
            await tx.driver.execute(
                "UPDATE journey_instances SET state = 'exited', end_reason = 'node_removed',"
                " ended_at = now(), wake_at = NULL, version = $3"
                " WHERE journey_id = $1 AND node_id = $2 AND state IN ('active', 'waiting')",
                journey_id,
                node_id,
                version,
            )
        elif target != node_id:
            await tx.driver.execute(
                "UPDATE journey_instances SET node_id = $3, node_since = now(), state = 'active',"
                " wake_at = now(), port = NULL, version = $4"
                " WHERE journey_id = $1 AND node_id = $2 AND state IN ('active', 'waiting')",
                journey_id,
                node_id,
                target,
                version,
            )
        else:
            changed = old.node(node_id) != new.node(node_id)
            again = changed and new.node(node_id).type in _HELD_BY_CONFIG
            await tx.driver.execute(
                "UPDATE journey_instances SET version = $3,"
                " state = CASE WHEN $4 AND state = 'waiting' THEN 'active' ELSE state END,"
                " wake_at = CASE WHEN $4 AND state = 'waiting' THEN now() ELSE wake_at END"
                " WHERE journey_id = $1 AND node_id = $2 AND state IN ('active', 'waiting')",
                journey_id,
                node_id,
                version,
                again,
            )
    if rows:
        await tx.driver.execute("SELECT pg_notify($1, '')", CHANNEL)


async def convert(tx: Transaction, ids: Sequence[int], at: datetime) -> None:
    await tx.driver.execute(
        "UPDATE journey_instances SET converted_at = $2"
        " WHERE id = ANY($1::bigint[]) AND converted_at IS NULL",
        list(ids),
        at,
    )


async def claim_due(tx: Transaction, limit: int) -> list[Instance]:
    """Running instances due now, of live journeys, oldest due first, locked (skipping those
    another runner holds)."""
    rows = await tx.driver.fetch(
        f"SELECT {_COLUMNS} FROM journey_instances i"
        " WHERE i.state IN ('active', 'waiting') AND i.wake_at <= now()"
        " AND EXISTS (SELECT 1 FROM journeys j WHERE j.id = i.journey_id AND j.state = 'live')"
        " ORDER BY i.wake_at LIMIT $1 FOR UPDATE OF i SKIP LOCKED",
        limit,
    )
    return [_instance(row) for row in rows]


@dataclass(frozen=True)
class Step:
    """One node passed: the port taken (None while the node holds the instance)."""

    instance_id: int
    step: int
    journey_id: int
    version: int
    node_id: str
    port: str | None
    started_at: datetime
    finished_at: datetime
    detail: str | None


async def save(tx: Transaction, moved: Sequence[Instance], steps: Sequence[Step]) -> None:
    """Write the instances as moved and their steps, in the caller's transaction (one
    statement each). An instance's context is what it entered with: never written again."""
    if steps:
        await tx.driver.execute(
            # ``entered_at`` (the partition key) is the instance's, read from its row: the key
            # (instance_id, step, entered_at) stays as unique as (instance_id, step).
            "INSERT INTO journey_steps (instance_id, step, journey_id, version, node_id, port,"
            " started_at, finished_at, detail, entered_at) SELECT s.*, (SELECT i.entered_at"
            " FROM journey_instances i WHERE i.id = s.instance_id) FROM unnest($1::bigint[],"
            " $2::int[], $3::bigint[], $4::int[], $5::text[], $6::text[], $7::timestamptz[],"
            " $8::timestamptz[], $9::text[]) AS s(instance_id, step, journey_id, version,"
            " node_id, port, started_at, finished_at, detail)",
            *_columns(
                (
                    *(s.instance_id, s.step, s.journey_id, s.version, s.node_id, s.port),
                    *(s.started_at, s.finished_at, s.detail),
                )
                for s in steps
            ),
        )
    if moved:
        await tx.driver.execute(
            "UPDATE journey_instances i SET version = m.version, state = m.state,"
            " node_id = m.node_id, node_since = m.node_since, wake_at = m.wake_at,"
            " port = m.port, step = m.step, ended_at = m.ended_at, end_reason = m.end_reason,"
            " error = m.error, note = m.note"
            " FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::timestamptz[],"
            " $6::timestamptz[], $7::text[], $8::int[], $9::timestamptz[], $10::text[],"
            " $11::text[], $12::text[]) AS m(id, version, state, node_id,"
            " node_since, wake_at, port, step, ended_at, end_reason, error, note)"
            " WHERE i.id = m.id",
            *_columns(
                (
                    *(i.id, i.version, i.state, i.node_id, i.node_since, i.wake_at, i.port),
                    *(i.step, i.ended_at, i.end_reason, i.error, i.note),
                )
                for i in moved
            ),
        )


def _columns(rows: Iterable[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows (at least one) turned into columns: the arrays ``unnest`` takes."""
    return [list(column) for column in zip(*rows, strict=True)]


async def totals(tx: Transaction, journey_id: int, version: int | None) -> asyncpg.Record:
    """How many entered, are in it now, completed, failed, converted, and exited by reason."""
    row = await tx.driver.fetchrow(
        "SELECT count(*) AS entered,"
        " count(*) FILTER (WHERE state IN ('active', 'waiting')) AS in_progress,"
        " count(*) FILTER (WHERE state = 'completed') AS completed,"
        " count(*) FILTER (WHERE state = 'failed') AS failed,"
        " count(*) FILTER (WHERE converted_at IS NOT NULL) AS converted,"
        " coalesce((SELECT jsonb_object_agg(reason, n) FROM (SELECT end_reason AS reason,"
        "   count(*) AS n FROM journey_instances WHERE journey_id = $1"
        "   AND ($2::int IS NULL OR version = $2) AND state = 'exited' GROUP BY end_reason) e),"
        "   '{}')::text AS exited"
        " FROM journey_instances WHERE journey_id = $1 AND ($2::int IS NULL OR version = $2)",
        journey_id,
        version,
    )
    assert row is not None  # an aggregate answers one row
    return row


async def node_counts(
    tx: Transaction, journey_id: int, version: int | None
) -> tuple[list[asyncpg.Record], list[asyncpg.Record], list[asyncpg.Record]]:
    """Steps out of each node and port; per node, the time spent there (p50, p95, seconds);
    per node, the instances there now."""
    ports = await tx.driver.fetch(
        "SELECT node_id, coalesce(port, '') AS port, count(*) AS n FROM journey_steps"
        " WHERE journey_id = $1 AND ($2::int IS NULL OR version = $2) GROUP BY node_id, port",
        journey_id,
        version,
    )
    times = await tx.driver.fetch(
        "SELECT node_id,"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50,"
        " percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS p95"
        " FROM (SELECT node_id, extract(epoch FROM finished_at - started_at) AS seconds"
        "  FROM journey_steps WHERE journey_id = $1 AND ($2::int IS NULL OR version = $2)) s"
        " GROUP BY node_id",
        journey_id,
        version,
    )
    here = await tx.driver.fetch(
        "SELECT node_id, count(*) AS n FROM journey_instances WHERE journey_id = $1"
        " AND ($2::int IS NULL OR version = $2) AND state IN ('active', 'waiting')"
        " GROUP BY node_id",
        journey_id,
        version,
    )
    return list(ports), list(times), list(here)


async def of_profiles(
    tx: Transaction, workspace_id: int, profile_ids: Sequence[str], limit: int
) -> list[asyncpg.Record]:
    """The instances of the profiles (entered as them or as profiles merged into them since),
    newest first, with their journey's key, their steps, and the ``nodes`` of their version
    (each node's ``label`` and ``type``, by id)."""
    return list(
        await tx.driver.fetch(
            "SELECT i.id, j.key, i.version, i.state, i.node_id, i.entered_at, i.ended_at,"
            " i.end_reason, i.error, i.converted_at, i.wake_at,"
            " coalesce((SELECT jsonb_agg(jsonb_build_object('step', s.step, 'node', s.node_id,"
            "   'port', s.port, 'arrived_at', s.started_at, 'left_at', s.finished_at,"
            "   'detail', s.detail) ORDER BY s.step)"
            "   FROM journey_steps s WHERE s.instance_id = i.id), '[]')::text AS steps,"
            " coalesce((SELECT jsonb_object_agg(n.key, jsonb_build_object("
            "   'label', n.value->'label', 'type', n.value->'type'))"
            "   FROM journey_versions v, jsonb_each(v.document->'nodes') n"
            "   WHERE v.journey_id = i.journey_id AND v.version = i.version), '{}')::text AS nodes"
            " FROM journey_instances i JOIN journeys j ON j.id = i.journey_id"
            f" JOIN {PROFILES} p ON p.id = i.profile_id"
            " WHERE i.workspace_id = $1 AND (p.id = ANY($2::text[]) OR p.merged_into = ANY($2))"
            " ORDER BY i.id DESC LIMIT $3",
            workspace_id,
            list(profile_ids),
            limit,
        )
    )


async def forget_profiles(
    tx: Transaction, workspace_id: int, profile_ids: Sequence[str]
) -> dict[str, int]:
    """Remove a person's journey instances (running or ended: their context holds the
    triggering event's properties), with their steps and webhook calls; return rows removed
    per table. An instance the runner holds is removed when the runner's turn ends."""
    ids = sorted(set(profile_ids))
    counts = {"journey_instances": 0, "journey_steps": 0, "journey_calls": 0}
    if not ids:
        return counts
    rows = await tx.driver.fetch(
        "SELECT id FROM journey_instances WHERE workspace_id = $1 AND profile_id = ANY($2::text[])"
        " FOR UPDATE",
        workspace_id,
        ids,
    )
    instances = [row[0] for row in rows]
    if not instances:
        return counts
    for table in ("journey_calls", "journey_steps"):
        counts[table] = removed(
            await tx.driver.execute(
                f"DELETE FROM {table} WHERE instance_id = ANY($1::bigint[])", instances
            )
        )
    counts["journey_instances"] = removed(
        await tx.driver.execute(
            "DELETE FROM journey_instances WHERE id = ANY($1::bigint[])", instances
        )
    )
    return counts
