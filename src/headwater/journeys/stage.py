"""The journey stage of the processor: what each event means to journeys, after the audience
stage, inside the processor's transaction (so that it commits with the log offsets, and a
redelivered batch changes nothing twice).

For each workspace with live journeys, for the batch's events in log order, with each event's
user profile (the profile stage recorded it):

1. the profile's running instances (entered as it, or as a profile merged into it) are looked
   at: an exit rule the event matches ends the instance (``exited``, reason ``exit_event``); a
   wait for events whose event it is (sent at or after the wait began: a late event still wakes
   a wait that is open) moves on through that event's port, and a wait for a condition that
   now holds moves on by ``met``; a goal reached within its window counts a conversion;
2. journeys whose trigger the event matches take the profile in, if its entry rule lets it
   (and it is in the trigger's audience, when one is named): one instance per triggering
   message (a redelivered event enters nobody again) and per running instance key.

Woken and entered instances are due at once; the runner takes them (notified on commit).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.audiences import decode_json
from headwater.audiences.evaluate import EventData, evaluate
from headwater.batch import Batch
from headwater.journeys import instances as store
from headwater.journeys.graph import Journey
from headwater.journeys.instances import Entering, Instance, Woken
from headwater.journeys.semantics import (
    Entered,
    goal_reached,
    instance_key,
    matches_any,
    may_enter,
    missing_consent,
    triggered_by,
    waited_port,
)
from headwater.journeys.subjects import Profiles
from headwater.journeys.versions import Versions
from headwater.log import LogEntry
from headwater.spec.messages import encode_message
from headwater.storage import Transaction, begin

__all__ = ["JourneyStage"]

_CATALOG_TTL = 2.0


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Live:
    """A live or paused journey (only live ones take entries) and the version it runs."""

    id: int
    version: int
    live: bool
    journey: Journey


@dataclass
class _Effects:
    woken: list[Woken] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)
    converted: list[int] = field(default_factory=list)
    entering: list[Entering] = field(default_factory=list)


class JourneyStage:
    """Journeys' part of processing; see the module docstring. ``clock`` gives the time."""

    def __init__(self, clock: Callable[[], datetime] = _now) -> None:
        self.clock = clock
        self._catalogs: dict[int, tuple[float, list[_Live]]] = {}
        self._versions = Versions()

    async def process(self, batch: Batch, connection: AsyncConnection) -> None:
        """Apply the batch's events to journeys; every entry goes on."""
        tx: Transaction | None = None
        for workspace_id in dict.fromkeys(entry.workspace_id for entry in batch.entries):
            linked = [
                (entry, profile)
                for entry in batch.entries
                if entry.workspace_id == workspace_id
                and (profile := batch.profile_of(entry)) is not None
            ]
            if not linked:
                continue
            tx = tx or await begin(connection)
            journeys = await self._catalog(tx, workspace_id)
            if not journeys:
                continue  # none live or paused: nobody is in a journey here
            running = await store.running_of(tx, workspace_id, sorted({p for _, p in linked}))
            live = [item for item in journeys if item.live]
            profiles = Profiles(
                tx,
                [(workspace_id, p) for _, p in linked]
                + [(workspace_id, i.profile_id) for found in running.values() for i in found],
            )
            effects = _Effects()
            now = self.clock()
            events = [(entry, profile, _event(entry)) for entry, profile in linked]
            for _, profile, event in events:
                await self._follow(tx, profiles, running.get(profile, ()), event, now, effects)
            await self._enter(tx, profiles, workspace_id, live, events, now, effects)
            await store.wake(tx, effects.woken)
            await store.end(tx, effects.ended, "exit_event", now)
            await store.convert(tx, effects.converted, now)
            await store.enter(tx, effects.entering, now)

    async def _catalog(self, tx: Transaction, workspace_id: int) -> list[_Live]:
        cached = self._catalogs.get(workspace_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        rows = await store.running_journeys(tx, workspace_id)
        live = [
            _Live(
                row["id"],
                row["version"],
                row["state"] == "live",
                self._versions.of_row(row),
            )
            for row in rows
        ]
        self._catalogs[workspace_id] = (time.monotonic() + _CATALOG_TTL, live)
        return live

    async def _follow(
        self,
        tx: Transaction,
        profiles: Profiles,
        running: Sequence[Instance],
        event: EventData,
        now: datetime,
        effects: _Effects,
    ) -> None:
        """Exits, wakes and goals of one event for its profile's instances."""
        for instance in running:
            journey = await self._versions.get(tx, instance.journey_id, instance.version)
            if journey is None:
                continue
            document = journey.document
            if instance.state in ("active", "waiting") and instance.id not in effects.ended:
                if document.exits and matches_any(document.exits, event, now):
                    effects.ended.append(instance.id)
                    instance.state = "exited"
                elif instance.state == "waiting" and instance.node_id in document.nodes:
                    port = await self._awaited(profiles, instance, journey, event, now)
                    if port is not None:
                        note = f"event {event.message_id}"
                        effects.woken.append(Woken(instance.id, instance.node_id, port, note))
                        instance.state = "active"
            goal = document.goal
            if (
                goal is not None
                and instance.converted_at is None
                and instance.id not in effects.converted
                and instance.entered_at <= event.timestamp
                and (instance.goal_until is None or event.timestamp <= instance.goal_until)
                and goal_reached(goal, event, now)
            ):
                effects.converted.append(instance.id)

    async def _awaited(
        self,
        profiles: Profiles,
        instance: Instance,
        journey: Journey,
        event: EventData,
        now: datetime,
    ) -> str | None:
        """The port the event moves a waiting instance on by, if any: an awaited event's (sent
        once the wait began), or ``met`` when the condition of a wait for one holds now that
        the batch's profiles and audiences are updated."""
        kind = journey.document.nodes[instance.node_id].type
        config = journey.configs[instance.node_id]
        if kind == "wait_event" and event.timestamp >= instance.node_since:
            return waited_port(config, event, now)
        if kind == "wait_condition":
            profile = await profiles.live(instance.workspace_id, instance.profile_id)
            subject = await profiles.subject(instance.workspace_id, profile, [config.condition])
            return "met" if evaluate(config.condition, subject, now) else None
        return None

    async def _enter(
        self,
        tx: Transaction,
        profiles: Profiles,
        workspace_id: int,
        live: Sequence[_Live],
        events: Sequence[tuple[LogEntry, str, EventData]],
        now: datetime,
        effects: _Effects,
    ) -> None:
        """Entries the events trigger, by the journeys' entry rules."""
        triggered = [
            (item, entry, profile, event)
            for entry, profile, event in events
            for item in live
            if triggered_by(item.journey.document.trigger, event, now)
        ]
        if not triggered:
            return
        known = await store.history(
            tx, sorted({i.id for i, *_ in triggered}), sorted({p for _, _, p, _ in triggered})
        )
        histories: dict[tuple[int, str], Entered] = {
            key: Entered(h.ever, h.last_entered_at, h.running) for key, h in known.items()
        }
        for item, entry, profile, event in triggered:
            document = item.journey.document
            trigger = document.trigger
            audience = getattr(trigger, "audience", None)
            if audience is not None:
                subject = await profiles.subject(workspace_id, profile, [])
                if audience not in subject.audiences:
                    continue
            key = instance_key(document.entry, event.properties)
            history = histories.get(
                (item.id, profile), Entered(ever=False, last_entered_at=None, running=())
            )
            if key is None or not may_enter(document.entry, history, key, now):
                continue
            if missing_consent(document.entry, await profiles.consent(profile)):
                continue
            histories[(item.id, profile)] = Entered(True, now, (*history.running, key))
            effects.entering.append(
                Entering(
                    workspace_id=workspace_id,
                    journey_id=item.id,
                    version=item.version,
                    profile_id=profile,
                    instance_key=key,
                    trigger_id=entry.message_id,
                    start=document.start,
                    context={"event": event.properties, "trigger": entry.message_id},
                    goal_until=None if document.goal is None else now + document.goal.within.span(),
                )
            )


def _event(entry: LogEntry) -> EventData:
    """The entry as conditions see it, numbers with a fraction as exact decimals."""
    message = decode_json(encode_message(entry.message))
    properties = message.get("properties") if isinstance(message, dict) else None
    return EventData(
        entry.message_id,
        entry.type,
        entry.name,
        entry.timestamp,
        properties if isinstance(properties, dict) else {},
    )
