"""The protocols stage of the processor: tracking plans enforced before identity.

For each batch, inside the processor's transaction:

1. one query reads the plans connected to the batch's sources (plan, newest version, settings
   revision); a plan version is compiled once and kept while a source uses it, so a change of
   plan or settings applies from the next batch on;
2. every message is observed (event name, property paths and types) and, when its source has a
   plan, checked (:meth:`~headwater.protocols.validate.CompiledPlan.check`);
3. violations are counted per minute and sampled; blocked messages go to the quarantine and are
   not returned (later stages never see them); changed messages (omitted properties,
   ``context.violations``) are returned as copies and kept a day in ``flagged`` for the live
   debugger (purged by the stage itself, every few minutes); a replayed message that passes
   has its quarantine row released;
4. the governed form of every changed or blocked message (its payload as governed, or a blocked
   marker) is committed to ``governed_payloads`` before the later stages run, in a transaction
   of its own: every reader after the processor reads events in that form, never the log's
   payloads as sent (through :func:`~headwater.protocols.governed`, or the log's named
   relation ``governed_events``). Nearly every message passes unchanged and writes nothing
   there.

Idempotent: effects are recorded only for entries after the partition's mark in
``protocols_progress``, which moves in the same transaction; a redelivered entry is checked
again (so later stages see the same result) but counts nothing twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

import msgspec
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from headwater.batch import Batch
from headwater.log import LogEntry
from headwater.protocols import records
from headwater.protocols.observe import Observations, event_key
from headwater.protocols.plan import Enforcement, parse_enforcement, parse_plan
from headwater.protocols.validate import CompiledPlan, Outcome, compile_plan
from headwater.spec import Message, format_timestamp, message_builtins, message_of
from headwater.storage import begin, connected
from headwater.telemetry.metrics import Metrics

__all__ = ["ProtocolMetrics", "ProtocolStage", "replay_marker"]

_log = logging.getLogger(__name__)
_SAMPLES = 5
_REMEMBERED = 20_000
_PURGE_SECONDS = 300.0
"""How often the stage forgets flagged messages older than a day (one indexed delete)."""


class ProtocolMetrics:
    """Tracking plans' metrics (a group of :class:`~headwater.telemetry.metrics.Metrics`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.violations = Counter(
            "headwater_protocols_violations_total",
            "Tracking plan violations recorded",
            ["type"],
            registry=registry,
        )
        self.blocked = Counter(
            "headwater_protocols_blocked_total",
            "Messages quarantined by a tracking plan",
            ["reason"],
            registry=registry,
        )


def replay_marker(message: Message) -> dict[str, Any] | None:
    """``context.headwater.replay`` of a message re-appended from the quarantine, if any."""
    marks = message.context.get("headwater")
    replay = marks.get("replay") if isinstance(marks, dict) else None
    return replay if isinstance(replay, dict) else None


class _Plan(msgspec.Struct, frozen=True):
    connection: records.Connection
    compiled: CompiledPlan
    settings: Enforcement


class _Effects:
    """What one batch records: observations, violation counts and samples, quarantine rows,
    flagged messages, releases."""

    def __init__(self, metrics: ProtocolMetrics) -> None:
        self._metrics = metrics
        self.observations = Observations()
        self.counts: dict[tuple[Any, ...], int] = {}
        self.samples: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.quarantined: list[dict[str, Any]] = []
        self.flagged: list[dict[str, Any]] = []
        self.released: list[tuple[int, str]] = []
        self.governed: list[tuple[int, int, dict[str, Any] | None]] = []
        """(log offset, workspace, payload as governed; None: blocked) of changed entries."""
        self.cleared: list[int] = []
        """Offsets of redelivered entries that pass unchanged now: any governed row goes."""

    def violations(self, entry: LogEntry, outcome: Outcome) -> None:
        kind, name = event_key(entry.message)
        bucket = format_timestamp(entry.received_at.replace(second=0, microsecond=0))
        seen = format_timestamp(entry.received_at)
        for violation in outcome.violations:
            self._metrics.violations.labels(violation.type).inc()
            key = (entry.source_id, kind, name, violation.type, violation.path)
            counted = (*key[:1], bucket, *key[1:], entry.partition, entry.workspace_id)
            self.counts[counted] = self.counts.get(counted, 0) + 1
            sample = {
                "message_id": entry.message_id,
                "received_at": seen,
                "payload": message_builtins(entry.message),
            }
            row = self.samples.get(key)
            if row is None:
                self.samples[key] = {
                    "source_id": entry.source_id,
                    "event_type": kind,
                    "event_name": name,
                    "violation": violation.type,
                    "path": violation.path,
                    "workspace_id": entry.workspace_id,
                    "message": violation.message,
                    "seen_at": seen,
                    "samples": [sample],
                }
            else:
                row["samples"] = [sample, *row["samples"][: _SAMPLES - 1]]
                row["message"], row["seen_at"] = violation.message, seen

    def block(self, entry: LogEntry, outcome: Outcome, plan: _Plan) -> None:
        self._metrics.blocked.labels(outcome.blocked or "").inc()
        self.quarantined.append(
            {
                "workspace_id": entry.workspace_id,
                "source_id": entry.source_id,
                "message_id": entry.message_id,
                "type": entry.type,
                "name": entry.name,
                "reason": outcome.blocked,
                "violations": [msgspec.to_builtins(v) for v in outcome.violations],
                "payload": message_builtins(entry.message),
                "plan_id": plan.connection.plan_id,
                "plan_version": plan.connection.version,
                "log_partition": entry.partition,
                "log_offset": entry.offset,
            }
        )

    def flag(self, entry: LogEntry, outcome: Outcome, payload: dict[str, Any]) -> None:
        """A message let through changed: flagged or trimmed, ``payload`` as governed."""
        self.flagged.append(
            {
                "workspace_id": entry.workspace_id,
                "source_id": entry.source_id,
                "received_at": format_timestamp(entry.received_at),
                "type": entry.type,
                "name": entry.name,
                "message_id": entry.message_id,
                "violations": [msgspec.to_builtins(v) for v in outcome.violations],
                "payload": payload,
            }
        )

    def count_rows(self) -> list[dict[str, Any]]:
        fields = ("source_id", "bucket", "event_type", "event_name", "violation", "path")
        rows = []
        for key, count in sorted(self.counts.items()):
            row: dict[str, Any] = dict(zip(fields, key, strict=False))
            row["partition"], row["workspace_id"] = key[-2:]
            row["count"] = count
            rows.append(row)
        return rows


def _govern(
    entry: LogEntry, plan: _Plan | None, effects: _Effects, *, fresh: bool, recorded: bool
) -> LogEntry | None:
    """The entry as its plan governs it (a copy when changed; None: blocked), its effects
    noted in ``effects`` (violations and the quarantine only when ``fresh``; ``recorded``: an
    earlier delivery may have recorded a governed form, which goes if the entry now passes
    unchanged)."""
    if plan is None:
        if recorded:
            effects.cleared.append(entry.offset)
        return entry
    # A plan is JSON Schema over the message as stored: checked in that form, and a changed
    # form decoded back into a message (nearly every message passes unchanged).
    document = message_builtins(entry.message)
    outcome = plan.compiled.check(document, plan.settings)
    if fresh and outcome.violations:
        effects.violations(entry, outcome)
    if outcome.payload is None:
        effects.governed.append((entry.offset, entry.workspace_id, None))
        if fresh:
            effects.block(entry, outcome, plan)
        return None
    if fresh and replay_marker(entry.message) is not None:
        effects.released.append((entry.source_id, entry.message_id))
    if outcome.payload is document:
        if recorded:
            effects.cleared.append(entry.offset)
        return entry
    effects.governed.append((entry.offset, entry.workspace_id, outcome.payload))
    if fresh:
        # Only violations change a message; one let through as sent (``allow``) is not
        # flagged: it is what the log holds, and its violations are counted and sampled.
        effects.flag(entry, outcome, outcome.payload)
    return msgspec.structs.replace(entry, message=message_of(outcome.payload))


async def _publish(engine: AsyncEngine, effects: _Effects) -> None:
    """Commit the governed payloads and blocked markers of the batch at once, on a connection
    of their own, before any later stage runs: the profile stage commits part of its work
    apart too (:class:`~headwater.profiles.ProfileStage`), and no reader may find an event
    linked to a profile before its governed form exists. Idempotent (an upsert keyed by the
    log offset), so a batch that fails later and is redelivered writes the same rows again."""
    async with connected(engine) as side:
        await records.govern(side, effects.governed, effects.cleared)


async def _purge(engine: AsyncEngine) -> None:
    """Forget flagged messages older than a day, on a connection of its own (one statement
    that commits by itself): not in the processor's transaction, where processors of other
    partitions deleting the same rows would wait for its locks until it commits."""
    async with connected(engine) as side:
        purged = await records.purge_flagged(side)
    if purged:
        _log.info("forgot %d flagged messages older than a day", purged)


class ProtocolStage:
    """Tracking plan enforcement, violations, quarantine and observed schemas; see the module
    docstring. Keeps compiled plans between batches; counts violations and blocked messages
    in ``metrics``."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics.of(ProtocolMetrics)
        self._compiled: dict[tuple[int, int], CompiledPlan] = {}
        self._settings: dict[tuple[int, int], Enforcement] = {}
        self._published: dict[int, None] = {}
        """Offsets whose governed form this stage committed lately, oldest first: a batch
        that failed after the commit is retried with its entries fresh again (the progress
        mark rolled back), and one that passes unchanged now (its plan changed meanwhile)
        must not keep the row of the failed attempt."""
        self._purge_due = 0.0
        """When (``time.monotonic()``) to forget old flagged messages next."""

    async def process(self, batch: Batch, connection: AsyncConnection) -> None:
        entries = batch.entries
        driver = await begin(connection)
        plans = await self._plans(driver, sorted({e.source_id for e in entries}))
        done = await records.progress(driver, (e.partition for e in entries))
        effects = _Effects(self._metrics)
        passed: list[LogEntry] = []
        blocked: list[LogEntry] = []
        marks: dict[int, int] = {}
        for entry in entries:
            fresh = entry.offset > done.get(entry.partition, 0)
            marks[entry.partition] = max(marks.get(entry.partition, 0), entry.offset)
            if fresh:
                effects.observations.add(
                    source_id=entry.source_id,
                    workspace_id=entry.workspace_id,
                    partition=entry.partition,
                    message=entry.message,
                    seen_at=entry.received_at,
                )
            recorded = not fresh or entry.offset in self._published
            governed = _govern(
                entry, plans.get(entry.source_id), effects, fresh=fresh, recorded=recorded
            )
            if governed is not None:
                passed.append(governed)
            else:
                blocked.append(entry)
        if effects.governed or effects.cleared:
            await _publish(connection.engine, effects)
            self._remember(offset for offset, _, _ in effects.governed)
        await records.add_observations(driver, effects.observations.rows())
        await records.add_violations(
            driver, effects.count_rows(), [effects.samples[k] for k in sorted(effects.samples)]
        )
        await records.quarantine(driver, effects.quarantined)
        await records.flag(driver, effects.flagged)
        await records.release(driver, effects.released)
        await records.save_progress(driver, marks)
        batch.entries = passed
        batch.block(blocked)
        if time.monotonic() >= self._purge_due:
            self._purge_due = time.monotonic() + _PURGE_SECONDS
            await _purge(connection.engine)

    def _remember(self, offsets: Iterable[int]) -> None:
        published = self._published
        for offset in offsets:
            published[offset] = None
        while len(published) > _REMEMBERED:
            del published[next(iter(published))]

    async def _plans(self, driver: Any, source_ids: list[int]) -> dict[int, _Plan]:
        """The compiled plan and settings of each source that has a plan."""
        found: dict[int, _Plan] = {}
        used: set[tuple[int, int]] = set()
        for connection in await records.connections(driver, source_ids):
            key = (connection.plan_id, connection.version)
            compiled = self._compiled.get(key)
            if compiled is None:
                document = await records.plan_document(driver, *key)
                compiled = compile_plan(parse_plan(document))
                self._compiled[key] = compiled
                _log.info("compiled tracking plan %s version %s", *key)
            settings_key = (connection.source_id, connection.revision)
            settings = self._settings.get(settings_key)
            if settings is None:
                if len(self._settings) > 1000:
                    self._settings.clear()
                settings = parse_enforcement(connection.settings)
                self._settings[settings_key] = settings
            used.add(key)
            found[connection.source_id] = _Plan(connection, compiled, settings)
        if len(self._compiled) > max(16, 2 * len(used)):
            self._compiled = {k: v for k, v in self._compiled.items() if k in used}
        return found
