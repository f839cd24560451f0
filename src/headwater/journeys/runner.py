"""The journey runner: moves running instances on, durably, any number of runners at once.

>>> runner = Runner(engine, enqueue=delivery.enqueue_events)   # wired in runtime.py
>>> await runner.run(stop)

Each turn claims the instances due now (``FOR UPDATE SKIP LOCKED``: entered, woken by an event,
or whose wait ended) and, for each, takes steps until a node holds it (a delay, a wait) or it
ends, all in one transaction with the steps' records and their side effects (a send is a row of
the delivery engine's queue, with a messageId made of the instance and the step; a trait update
an identify call in the event log). Scheduled journeys take their audience's members in each
turn of :meth:`Runner.schedules` (``entries.py``). A crash before
the commit loses nothing and does nothing twice: the instance is due again, and its steps run
again as if for the first time. A timer due while Headwater was down is simply due: the first
turn after the start takes it.

What each node does (``semantics.py`` and ``decide.py`` have the rules, which the test run
shares):

- a delay holds the instance until its end (a duration from when it arrived, a trait's time,
  a window's opening), then leaves by ``out``;
- a wait for events holds it until the stage matches one (that event's port) or its timeout
  (``timeout``); a wait for a condition until it holds (``met``: checked on arrival, by the
  stage on the profile's events, and every :data:`RECHECK`) or its timeout; a split and a
  random split choose a port at once; ``goto`` jumps ahead; ``exit`` ends it (``completed``);
  a port left unconnected ends it as well;
- an update of traits appends an identify call to the event log;
- a list membership adds the profile to (or removes it from) a list audience: ``out``, or
  ``error`` when the audience is missing or not a list; the change is recorded with the step's
  messageId, so a step run again changes nothing twice;
- a send queues one track event for a destination: ``out`` once queued (the delivery engine
  then owns its retries, dead letters and replay), ``error`` when the destination is deleted or
  disabled;
- a webhook queues its request (``calls.py`` sends it, with retries) and holds the instance
  until the answer wakes it: ``out`` for a success, ``error`` once it failed for good.

An ``error`` port left unconnected ends the instance as ``failed`` with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.audiences import encode_json, journey_change
from headwater.audiences.evaluate import Subject
from headwater.journeys import calls
from headwater.journeys import instances as store
from headwater.journeys.decide import (
    NO_IDENTITY,
    NO_IDENTITY_FOR_TRAITS,
    RECHECK,
    Hold,
    Leave,
    condition_met,
    condition_timeout,
    delay_step,
    ending,
    identify_call,
    leads_to,
    no_destination,
    scope_of,
    track_event,
    traits_set,
    wait_event_step,
    webhook_request,
    where,
)
from headwater.journeys.entries import run_schedules
from headwater.journeys.graph import Journey
from headwater.journeys.instances import Instance, Step
from headwater.journeys.semantics import branch, cohort, missing_consent, trait_changes
from headwater.journeys.subjects import Profiles
from headwater.journeys.versions import Versions
from headwater.log import EventLog, LogRecord
from headwater.profiles import lookups
from headwater.spec import Envelope, Event, normalise
from headwater.storage import STORAGE_ERRORS, Listener, Transaction, begin
from headwater.supervisor import Health

__all__ = ["RECHECK", "RUNNABLE", "Enqueue", "Runner"]

logger = logging.getLogger(__name__)

RUNNABLE = frozenset(
    {
        "delay",
        "wait_event",
        "split",
        "random_split",
        "wait_condition",
        "send",
        "webhook",
        "update_traits",
        "list_membership",
        "goto",
        "exit",
    }
)
"""The node types this version runs; a journey with another one cannot be published yet."""

SCHEDULE_EVERY: Final = 5.0
"""Seconds between looks at scheduled journeys (a run enters members within that of its time)."""


class Enqueue(Protocol):
    def __call__(
        self, tx: Transaction, events: Sequence[tuple[int, dict[str, Any]]]
    ) -> Awaitable[int]: ...


Destinations = Callable[[Transaction], Awaitable[dict[int, int]]]
"""The enabled destinations: id -> workspace id."""


def _now() -> datetime:
    return datetime.now(UTC)


class Runner:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        log: EventLog,
        enqueue: Enqueue,
        destinations: Destinations,
        batch: int = 500,
        tick: float = 0.2,
        clock: Callable[[], datetime] = _now,
        steps_per_turn: int = 100,
    ) -> None:
        """``log`` takes the identify calls of trait updates; ``enqueue`` queues events,
        ``(destination id, event)``, in the given transaction (the delivery engine's
        ``enqueue_events``);
        ``destinations`` reads the enabled ones."""
        self.engine, self.enqueue, self.batch, self.tick = engine, enqueue, batch, tick
        self.log = log
        self.destinations, self.clock, self.steps_per_turn = destinations, clock, steps_per_turn
        self.versions = Versions()
        self._enabled: tuple[float, dict[int, int]] = (0.0, {})
        self._schedules_at = 0.0
        self._due = asyncio.Event()
        self._listener = Listener(engine, store.CHANNEL, self._on_notify, on_lost=self._due.set)

    def _on_notify(self, *_: object) -> None:
        self._due.set()  # an instance entered or woke: a turn now, not at the next tick

    async def turn(self) -> int:
        """Move the instances due now; return how many were claimed."""
        async with self.engine.begin() as connection:
            tx = await begin(connection)
            claimed = await store.claim_due(tx, self.batch)
            if not claimed:
                return 0
            turn = _Turn(tx, Profiles(tx, [(i.workspace_id, i.profile_id) for i in claimed]))
            for instance in claimed:
                journey = await self.versions.get(tx, instance.journey_id, instance.version)
                if journey is None:  # its journey was deleted meanwhile
                    _finish(instance, "exited", self.clock(), reason="journey_deleted")
                    continue
                await _Walk(self, turn, instance, journey).run()
            await self.enqueue(tx, turn.sends)
            await store.save(tx, claimed, turn.steps)
        return len(claimed)

    async def schedules(self) -> int:
        """Enter the members of scheduled journeys whose run is due (looked at every
        :data:`SCHEDULE_EVERY` seconds); how many entered."""
        if time.monotonic() < self._schedules_at:
            return 0
        self._schedules_at = time.monotonic() + SCHEDULE_EVERY
        async with self.engine.begin() as connection:
            tx = await begin(connection)
            workspaces = await store.live_workspaces(tx)
            return await run_schedules(tx, workspaces, self.clock())

    async def enabled(self, tx: Transaction) -> dict[int, int]:
        """The enabled destinations (id -> workspace), read at most every few seconds."""
        expires, known = self._enabled
        if time.monotonic() >= expires:
            known = await self.destinations(tx)
            self._enabled = (time.monotonic() + 5.0, known)
        return known

    async def run(self, stop: asyncio.Event, health: Health | None = None) -> None:
        """Run turns until ``stop``: a full turn is followed at once by the next one, others
        by the next entry or wake (the stage notifies on commit) or by ``tick`` (for timers).
        A database outage is logged, reported to ``health`` and retried."""
        health = health if health is not None else Health("journey-runner")
        try:
            while not stop.is_set():
                claimed = 0
                try:
                    await self._listener.ensure()
                    self._due.clear()
                    await self.schedules()
                    claimed = await self.turn()
                except STORAGE_ERRORS as error:
                    health.failed(error)
                    logger.warning("journey runner failed; retrying", exc_info=True)
                else:
                    health.ok()
                if claimed < self.batch:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._due.wait(), self.tick)
        finally:
            await self._listener.close()


def _finish(
    instance: Instance,
    state: str,
    at: datetime,
    *,
    reason: str,
    error: str | None = None,
) -> None:
    instance.state, instance.ended_at, instance.end_reason = state, at, reason
    instance.error, instance.wake_at, instance.port = error, None, None


@dataclass
class _Turn:
    """What a turn's walks share: the transaction, the profiles' data, and what they did (the
    steps taken, the events to queue), written together at the end of the turn."""

    tx: Transaction
    profiles: Profiles
    steps: list[Step] = field(default_factory=list)
    sends: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


class _Walk:
    """One instance's steps in one turn."""

    def __init__(self, runner: Runner, turn: _Turn, instance: Instance, journey: Journey) -> None:
        self.runner, self.tx, self.profiles = runner, turn.tx, turn.profiles
        self.instance, self.journey, self.steps, self.turn = instance, journey, turn.steps, turn

    async def run(self) -> None:
        instance = self.instance
        for _ in range(self.runner.steps_per_turn):
            now = self.runner.clock()
            if instance.node_id not in self.journey.document.nodes:
                _finish(instance, "exited", now, reason="node_removed")
                return
            if await self._withdrawn():
                _finish(instance, "exited", now, reason="consent_withdrawn")
                return
            node = self.journey.node(instance.node_id)
            taken = await self._port(node.type, now)
            if taken is None:
                return  # held by the node until wake_at (or an event)
            port, detail = taken
            self.steps.append(
                Step(
                    instance.id,
                    instance.step,
                    instance.journey_id,
                    instance.version,
                    instance.node_id,
                    port,
                    instance.node_since,
                    now,
                    detail,
                )
            )
            instance.step += 1
            target = leads_to(self.journey, instance.node_id, port)
            if target is None:
                state, reason = ending(node.type, port)
                error = detail if state == "failed" else None
                _finish(instance, state, now, reason=reason, error=error)
                return
            instance.node_id, instance.node_since = target, now
            instance.state, instance.port, instance.wake_at = "active", None, None
            instance.note = None
        instance.wake_at = self.runner.clock()  # more next turn: others get their turn first

    async def _withdrawn(self) -> bool:
        """Whether the profile no longer consents to every category the journey requires."""
        entry = self.journey.document.entry
        if not entry.consent:
            return False
        live = await self.profiles.live(self.instance.workspace_id, self.instance.profile_id)
        return bool(missing_consent(entry, await self.profiles.consent(live)))

    async def _port(self, kind: str, now: datetime) -> tuple[str | None, str | None] | None:
        """The port the current node leaves by now (with a detail for the step), or None when
        it holds the instance (its state and ``wake_at`` set)."""
        instance = self.instance
        config = self.journey.configs[instance.node_id]
        if instance.port is not None:
            return instance.port, instance.note
        if kind == "wait_condition":
            return await self._until(config, now)
        if instance.state == "waiting":  # its time came
            return ("out", None) if kind == "delay" else ("timeout", None)
        if kind == "delay":
            step = delay_step(config, instance.node_since, await self._profile_traits(), now)
            return self._taken(step)
        if kind == "wait_event":
            return self._taken(wait_event_step(config, instance.node_since))
        if kind == "split":
            return branch(config, await self._subject(config), now), None
        if kind == "random_split":
            port = cohort(
                config,
                journey_id=instance.journey_id,
                node_id=instance.node_id,
                profile_id=instance.profile_id,
            )
            return port, None
        if kind == "send":
            return await self._send(config, now)
        if kind == "webhook":
            await self._call(config)
            return None
        if kind == "update_traits":
            return await self._update_traits(config, now)
        if kind == "list_membership":
            return await self._list_membership(config, now)
        if kind in ("goto", "exit"):
            return None, None
        raise AssertionError(f"{kind} is not in RUNNABLE: publishing refuses it")

    async def _until(self, config: Any, now: datetime) -> tuple[str | None, str | None] | None:
        """A wait for a condition: ``met`` once it holds (checked on arrival, by the stage on
        each of the profile's events, and here every :data:`RECHECK`, for what changes with
        time or a batch recompute), ``timeout`` when its time is up."""
        since = self.instance.node_since
        late = condition_timeout(config, since, now)
        if late is not None:
            return self._taken(late)
        profile = await self._live_profile()
        subject = await self.profiles.subject(
            self.instance.workspace_id, profile, [config.condition]
        )
        return self._taken(condition_met(config, subject, since, now))

    def _taken(self, step: Hold | Leave) -> tuple[str | None, str | None] | None:
        """A decision as :meth:`_port` answers it: the port and why, or None once held."""
        if isinstance(step, Leave):
            return step.port, step.why
        self._hold(step.until)
        return None

    def _hold(self, until: datetime | None) -> None:
        """The node keeps the instance until ``until`` (None: until something wakes it)."""
        self.instance.state, self.instance.wake_at = "waiting", until

    async def _identity(self) -> dict[str, str]:
        """The profile's ``userId`` and ``anonymousId`` (those it has), to send as."""
        return await self.profiles.identity(await self._live_profile())

    async def _update_traits(self, config: Any, now: datetime) -> tuple[str, str]:
        """The traits as a journey step sets them: an identify call appended to the event log
        in this transaction (so profiles, audiences and destinations take it like any other,
        and a rebuilt profile keeps it), attributed to the source the profile was last seen
        from, with ``context.journey``."""
        instance = self.instance
        current = await self._profile_traits()
        changes = trait_changes(config.updates, current)
        if not changes:
            return "out", traits_set(changes)
        identity = await self._identity()
        source = await lookups.last_source(self.tx, await self._live_profile())
        if not identity or source is None:
            return "error", NO_IDENTITY_FOR_TRAITS
        message = identify_call(
            json.loads(encode_json(changes)),
            identity=identity,
            message_id=f"hwj-{instance.id}-{instance.step}",
            now=now,
            origin=self._where(),
        )
        made = normalise(message, index=0, route_type=None, envelope=Envelope(received_at=now))
        if not isinstance(made, Event):
            return "error", made.reason
        record = LogRecord(workspace_id=instance.workspace_id, source_id=source, event=made)
        await self.runner.log.append([record], connection=self.tx.connection)
        # what later steps of this turn see
        self.profiles.set_traits(await self._live_profile(), {**current, **changes})
        return "out", traits_set(changes)

    async def _list_membership(self, config: Any, now: datetime) -> tuple[str, str]:
        """Add the profile to, or remove it from, a list audience in this transaction: the
        change (cause ``journey``, messageId ``hwj-{instance}-{step}``) reaches destinations
        and audience-triggered journeys through the activation relay like any other."""
        instance = self.instance
        live = await self._live_profile()
        done, detail = await journey_change(
            self.tx,
            workspace_id=instance.workspace_id,
            key=config.audience,
            profile_id=live,
            action=config.action,
            message_id=f"hwj-{instance.id}-{instance.step}",
            at=now,
        )
        self.profiles.forget_values(live)  # a later split in this turn sees the list as it is
        return ("out" if done else "error"), detail

    def _where(self) -> dict[str, Any]:
        instance = self.instance
        return where(instance.journey_id, instance.version, instance.node_id, instance.id)

    async def _scope(self) -> dict[str, Any]:
        return scope_of(
            await self._profile_traits(),
            self.instance.context.get("event") or {},
            await self._live_profile(),
        )

    async def _call(self, config: Any) -> None:
        """Queue the webhook's request (the caller sends it, with retries) and wait for its
        answer, which wakes the instance through ``out`` or ``error``."""
        instance = self.instance
        request = webhook_request(
            config,
            scope=await self._scope(),
            origin=self._where(),
            key=f"hwj-{instance.id}-{instance.step}",
        )
        await calls.queue(self.tx, instance.id, instance.step, instance.node_id, request)
        self._hold(None)

    async def _profile_traits(self) -> dict[str, Any]:
        return await self.profiles.traits(await self._live_profile())

    async def _live_profile(self) -> str:
        return await self.profiles.live(self.instance.workspace_id, self.instance.profile_id)

    async def _subject(self, config: Any) -> Subject:
        """The profile as a split's branch conditions see it."""
        conditions = [candidate.condition for candidate in config.branches]
        profile = await self._live_profile()
        return await self.profiles.subject(self.instance.workspace_id, profile, conditions)

    async def _send(self, config: Any, now: datetime) -> tuple[str, str]:
        instance = self.instance
        enabled = await self.runner.enabled(self.tx)
        if enabled.get(config.destination) != instance.workspace_id:
            return "error", no_destination(config.destination)
        identity = await self._identity()
        if not identity:
            return "error", NO_IDENTITY
        event = track_event(
            config,
            identity=identity,
            scope=await self._scope(),
            message_id=f"hwj-{instance.id}-{instance.step}",
            now=now,
            origin=self._where(),
        )
        self.turn.sends.append((config.destination, event))
        return "out", f"queued for destination {config.destination}"
