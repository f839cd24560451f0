"""The protocols stage's reads and writes. Each function takes the stage's transaction
and runs on its asyncpg driver, inside the processor's transaction, and never commits; except
:func:`govern`, which commits on a connection of its own (see there).

Bulk writes send one JSON document (``jsonb_to_recordset``): one parameter, cheap to build,
rows in the order given (sorted by key, so that concurrent writers lock rows in one order).
Keys that hold an event name or a property path are unique on ``md5()`` of them (migration
0007): an index row could not hold a long one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any, Final

import msgspec

from headwater.log import LogEntry
from headwater.protocols.observe import ObservedRow
from headwater.spec import message_of
from headwater.storage import Transaction, holds_any, removed

__all__ = [
    "FLAGGED_KEPT",
    "Connection",
    "add_observations",
    "add_violations",
    "connections",
    "flag",
    "forget_records",
    "govern",
    "governed",
    "plan_document",
    "progress",
    "purge_flagged",
    "quarantine",
    "release",
    "save_progress",
]

_encode = msgspec.json.Encoder().encode


class Connection(msgspec.Struct, frozen=True):
    """A source's plan: which plan and version, its settings and their revision."""

    source_id: int
    plan_id: int
    version: int
    revision: int
    settings: dict[str, Any]


async def connections(tx: Transaction, source_ids: Sequence[int]) -> list[Connection]:
    rows = await tx.driver.fetch(
        "SELECT c.source_id, c.plan_id, p.version, c.revision, c.settings::text AS settings"
        " FROM tracking_plan_sources c JOIN tracking_plans p ON p.id = c.plan_id"
        " WHERE c.source_id = ANY($1::int[])",
        list(source_ids),
    )
    return [
        Connection(
            r["source_id"],
            r["plan_id"],
            r["version"],
            r["revision"],
            msgspec.json.decode(r["settings"]),
        )
        for r in rows
    ]


async def plan_document(tx: Transaction, plan_id: int, version: int) -> Any:
    text = await tx.driver.fetchval(
        "SELECT document::text FROM tracking_plan_versions WHERE plan_id = $1 AND version = $2",
        plan_id,
        version,
    )
    return None if text is None else msgspec.json.decode(text)


async def progress(tx: Transaction, partitions: Iterable[int]) -> dict[int, int]:
    """The last offset whose effects were recorded, per partition (absent: none)."""
    rows = await tx.driver.fetch(
        "SELECT partition, committed FROM protocols_progress WHERE partition = ANY($1::int[])",
        sorted(set(partitions)),
    )
    return {row["partition"]: row["committed"] for row in rows}


async def save_progress(tx: Transaction, marks: dict[int, int]) -> None:
    await tx.driver.execute(
        "INSERT INTO protocols_progress (partition, committed)"
        " SELECT * FROM unnest($1::smallint[], $2::bigint[])"
        " ON CONFLICT (partition) DO UPDATE"
        " SET committed = GREATEST(protocols_progress.committed, EXCLUDED.committed)",
        list(marks),
        list(marks.values()),
    )


async def add_observations(tx: Transaction, rows: Sequence[ObservedRow]) -> None:
    if not rows:
        return
    await tx.driver.execute(
        "INSERT INTO observed_schema (source_id, event_type, event_name, path, json_type,"
        " partition, workspace_id, count, first_seen, last_seen, detected)"
        " SELECT source_id, event_type, event_name, path, json_type, partition, workspace_id,"
        " count, first_seen, last_seen, detected FROM jsonb_to_recordset($1::text::jsonb) AS r("
        " source_id int, event_type text, event_name text, path text, json_type text,"
        " partition smallint, workspace_id int, count bigint, first_seen timestamptz,"
        " last_seen timestamptz, detected text)"
        " ON CONFLICT (source_id, event_type, md5(event_name), md5(path), json_type, partition)"
        " DO UPDATE SET count = observed_schema.count + EXCLUDED.count,"
        " first_seen = LEAST(observed_schema.first_seen, EXCLUDED.first_seen),"
        " last_seen = GREATEST(observed_schema.last_seen, EXCLUDED.last_seen),"
        " detected = COALESCE(observed_schema.detected, EXCLUDED.detected)",
        _encode(rows).decode(),
    )


async def add_violations(
    tx: Transaction, counts: Sequence[dict[str, Any]], samples: Sequence[dict[str, Any]]
) -> None:
    """Add per-minute counts and prepend samples (the newest 5 are kept)."""
    if counts:
        await tx.driver.execute(
            "INSERT INTO violation_counts (source_id, bucket, event_type, event_name, violation,"
            " path, partition, workspace_id, count)"
            " SELECT source_id, bucket, event_type, event_name, violation, path, partition,"
            " workspace_id, count FROM jsonb_to_recordset($1::text::jsonb) AS r("
            " source_id int, bucket timestamptz, event_type text, event_name text,"
            " violation text, path text, partition smallint, workspace_id int, count bigint)"
            " ON CONFLICT (source_id, bucket, event_type, md5(event_name), violation, md5(path),"
            " partition)"
            " DO UPDATE SET count = violation_counts.count + EXCLUDED.count",
            _encode(counts).decode(),
        )
    if samples:
        await tx.driver.execute(
            "INSERT INTO violation_samples (source_id, event_type, event_name, violation, path,"
            " workspace_id, message, first_seen, last_seen, samples)"
            " SELECT source_id, event_type, event_name, violation, path, workspace_id, message,"
            " seen_at, seen_at, samples FROM jsonb_to_recordset($1::text::jsonb) AS r("
            " source_id int, event_type text, event_name text, violation text, path text,"
            " workspace_id int, message text, seen_at timestamptz, samples jsonb)"
            " ON CONFLICT (source_id, event_type, md5(event_name), violation, md5(path))"
            " DO UPDATE SET"
            " message = EXCLUDED.message,"
            " last_seen = GREATEST(violation_samples.last_seen, EXCLUDED.last_seen),"
            " samples = jsonb_path_query_array("
            "   EXCLUDED.samples || violation_samples.samples, '$[0 to 4]')",
            _encode(samples).decode(),
        )


_QUARANTINE_LOCK: Final = 7210025
"""The advisory lock class under which :func:`quarantine` takes one lock per message."""


async def quarantine(tx: Transaction, rows: Sequence[dict[str, Any]]) -> None:
    """Keep blocked messages; a message blocked again (a replay, at another log offset) has its
    row updated and its attempts counted, a redelivered entry (same offset) changes nothing.

    ``quarantine`` is partitioned by ``first_blocked_at``, so its unique key is ``(source_id,
    message_id, first_blocked_at)``. A message blocked again must find its row, so its
    ``first_blocked_at`` is read from that row, under a transaction lock per message (taken in
    one order, so two batches never wait on each other in a cycle): a transaction blocking the
    same message at the same time waits, then reads the row this one wrote (each statement sees
    what committed before it began). A message has one row, as it had before partitioning."""
    if not rows:
        return
    await tx.driver.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext(k)) FROM (SELECT DISTINCT k FROM"
        " unnest($2::text[]) AS k ORDER BY k) AS keys",
        _QUARANTINE_LOCK,
        [f"{row['source_id']}:{row['message_id']}" for row in rows],
    )
    await tx.driver.execute(
        "INSERT INTO quarantine (workspace_id, source_id, message_id, type, name, reason,"
        " violations, payload, status, plan_id, plan_version, log_partition, log_offset,"
        " first_blocked_at)"
        " SELECT workspace_id, source_id, message_id, type, name, reason, violations, payload,"
        " 'quarantined', plan_id, plan_version, log_partition, log_offset,"
        " coalesce((SELECT q.first_blocked_at FROM quarantine q WHERE q.source_id = r.source_id"
        "   AND q.message_id = r.message_id), now())"
        " FROM jsonb_to_recordset($1::text::jsonb) AS r(workspace_id int, source_id int,"
        " message_id text, type text, name text, reason text, violations jsonb, payload jsonb,"
        " plan_id int, plan_version int, log_partition smallint, log_offset bigint)"
        " ON CONFLICT (source_id, message_id, first_blocked_at) DO UPDATE"
        " SET reason = EXCLUDED.reason,"
        " violations = EXCLUDED.violations, payload = EXCLUDED.payload, status = 'quarantined',"
        " attempts = quarantine.attempts + 1, plan_id = EXCLUDED.plan_id,"
        " plan_version = EXCLUDED.plan_version, log_partition = EXCLUDED.log_partition,"
        " log_offset = EXCLUDED.log_offset, blocked_at = now(), resolved_at = NULL,"
        " forwarded_to = NULL"
        " WHERE (quarantine.log_partition, quarantine.log_offset)"
        "   IS DISTINCT FROM (EXCLUDED.log_partition, EXCLUDED.log_offset)",
        _encode(rows).decode(),
    )


async def flag(tx: Transaction, rows: Sequence[dict[str, Any]]) -> None:
    """Keep the messages let through with violations, in the order given (the log's): the
    live debugger follows their ids. Written only for fresh entries, so once each."""
    if not rows:
        return
    await tx.driver.execute(
        "INSERT INTO flagged (workspace_id, source_id, received_at, type, name, message_id,"
        " violations, payload)"
        " SELECT workspace_id, source_id, received_at, type, name, message_id, violations,"
        " payload FROM jsonb_to_recordset($1::text::jsonb) AS r(workspace_id int,"
        " source_id int, received_at timestamptz, type text, name text, message_id text,"
        " violations jsonb, payload jsonb)",
        _encode(rows).decode(),
    )


FLAGGED_KEPT: Final = timedelta(days=1)
"""How long a flagged message stays visible to the live debugger (its violations stay in the
counts and samples)."""


async def purge_flagged(tx: Transaction) -> int:
    """Forget flagged messages older than :data:`FLAGGED_KEPT`; return how many."""
    status = await tx.driver.execute(
        "DELETE FROM flagged WHERE received_at < now() - $1::interval", FLAGGED_KEPT
    )
    return int(status.split()[-1])


async def release(tx: Transaction, replays: Sequence[tuple[int, str]]) -> None:
    """Replayed messages that passed this time: their quarantine rows become ``released``."""
    if not replays:
        return
    await tx.driver.execute(
        "UPDATE quarantine q SET status = 'released', resolved_at = now()"
        " FROM unnest($1::int[], $2::text[]) AS r(source_id, message_id)"
        " WHERE q.source_id = r.source_id AND q.message_id = r.message_id"
        " AND q.status = 'replayed'",
        [source for source, _ in replays],
        [message for _, message in replays],
    )


async def govern(
    tx: Transaction,
    governed: Sequence[tuple[int, int, dict[str, Any] | None]],
    cleared: Sequence[int],
) -> None:
    """Record what the plans made of log entries: ``(offset, workspace, payload)`` for each
    entry changed (the payload as governed) or blocked (None), replacing what an earlier
    delivery of the entry recorded; ``cleared``: offsets of entries that pass unchanged now
    (redelivered after their plan changed), whose rows go. :func:`governed` and the view
    ``governed_events`` read them.

    Unlike the other functions here, it runs outside any transaction and commits: one
    statement, its own transaction, committed as the processor's are (``synchronous_commit``
    off, see the consumer); a batch pays one round trip for it."""
    await tx.driver.execute(
        "WITH settings AS (SELECT set_config('synchronous_commit', 'off', true)),"
        " cleared AS (DELETE FROM governed_payloads WHERE seq = ANY($2::bigint[]))"
        " INSERT INTO governed_payloads (seq, workspace_id, payload)"
        " SELECT r.seq, r.workspace_id, r.payload FROM settings,"
        " jsonb_to_recordset($1::text::jsonb) AS r(seq bigint, workspace_id int, payload jsonb)"
        " ON CONFLICT (seq) DO UPDATE SET payload = EXCLUDED.payload",
        _encode(
            [{"seq": s, "workspace_id": w, "payload": p} for s, w, p in sorted(governed)]
        ).decode(),
        sorted(cleared),
    )


async def governed(tx: Transaction, entries: Sequence[LogEntry]) -> list[LogEntry]:
    """``entries`` as the tracking plans left them, in their order: an entry a plan changed
    carries the payload as governed, one it blocked is left out, the others are as read from
    the log. One round trip on ``governed_payloads`` (small: only the entries a plan changed
    or blocked have a row), whatever the log's implementation.

    >>> await governed(driver, await log.entries([12, 13]))   # 13 was blocked
    [LogEntry(offset=12, ...)]
    """
    if not entries:
        return []
    rows = await tx.driver.fetch(
        "SELECT seq, payload FROM governed_payloads WHERE seq = ANY($1::bigint[])",
        [entry.offset for entry in entries],
    )
    if not rows:
        return list(entries)
    found: dict[int, dict[str, Any] | None] = {row[0]: row[1] for row in rows}
    kept = []
    for entry in entries:
        if entry.offset not in found:
            kept.append(entry)
        elif (payload := found[entry.offset]) is not None:
            kept.append(msgspec.structs.replace(entry, message=message_of(payload)))
    return kept


# The samples of each kind of violation, without the person's: a sample of one of their
# messages, or whose payload holds one of their values. The row stays (its counts are no one's).
# Its message is the newest violation's, the first sample's, and may quote the offending value
# ("'ann@example.com' is not of type 'integer'"): when that sample goes, a marker replaces it.
ERASED_MESSAGE: Final = "(message removed: it came from an erased person)"
_FORGET_SAMPLES = (
    "WITH kept AS ("
    " SELECT s.ctid AS at, jsonb_array_length(s.samples) AS before, s.samples->0 AS newest,"
    "  (SELECT coalesce(jsonb_agg(e.sample ORDER BY e.n), '[]'::jsonb)"
    "   FROM jsonb_array_elements(s.samples) WITH ORDINALITY AS e(sample, n)"
    "   WHERE NOT (e.sample->>'message_id' = ANY($2::text[])"
    "   OR " + holds_any("e.sample->'payload'", "$3::text[]") + ")) AS samples"
    " FROM violation_samples s WHERE s.workspace_id = $1)"
    " UPDATE violation_samples v SET samples = kept.samples,"
    " message = CASE WHEN kept.samples->0 IS DISTINCT FROM kept.newest"
    "  THEN '" + ERASED_MESSAGE + "' ELSE v.message END"
    " FROM kept WHERE v.ctid = kept.at AND jsonb_array_length(kept.samples) < kept.before"
    " RETURNING kept.before - jsonb_array_length(kept.samples)"
)

_FORGET_BLOCKED = (
    "DELETE FROM {table} WHERE workspace_id = $1"
    " AND (message_id = ANY($2::text[]) OR " + holds_any("payload", "$3::text[]") + ")"
    " RETURNING {returning}"
)


async def forget_records(
    tx: Transaction,
    workspace_id: int,
    message_ids: Sequence[str],
    offsets: Sequence[int],
    values: Sequence[str],
) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Remove a person from the tracking plans' records: the governed payloads of their log
    entries (``offsets``, and those of their quarantined messages), their quarantined and
    flagged messages (those of ``message_ids``, or whose payload holds one of ``values``, lower
    case: a blocked event never reached their profile), and their violation samples (the
    counts stay: they are no one's). Return rows removed per table (samples counted one by
    one), and the log entries of the quarantined messages removed (message id, offset), for
    the caller to remove from the log. A violation's message that came from their event is
    replaced by :data:`ERASED_MESSAGE`. Reads the workspace's quarantine, flagged messages and
    samples whole."""
    driver = tx.driver
    args = (workspace_id, sorted(set(message_ids)), sorted(set(values)))
    blocked = await driver.fetch(
        _FORGET_BLOCKED.format(table="quarantine", returning="message_id, log_offset"), *args
    )
    governed = await driver.execute(
        "DELETE FROM governed_payloads WHERE workspace_id = $1 AND seq = ANY($2::bigint[])",
        workspace_id,
        sorted({*offsets, *(row[1] for row in blocked)}),
    )
    flagged = await driver.fetch(_FORGET_BLOCKED.format(table="flagged", returning="id"), *args)
    samples = await driver.fetch(_FORGET_SAMPLES, *args)
    counts = {
        "governed_payloads": removed(governed),
        "quarantine": len(blocked),
        "flagged": len(flagged),
        "violation_samples": sum(row[0] for row in samples),
    }
    return counts, [(row[0], row[1]) for row in blocked]
