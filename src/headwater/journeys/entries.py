"""Entries that no event of the profile triggers: audience changes (``audience_entered``,
``audience_exited``) and schedules (``schedule``: every member of an audience, every so often).

Audience changes come from the activation relay, in the transaction that marks them handed on
(:class:`~headwater.audiences.Relay` calls :meth:`AudienceEntries.changed`): each change is seen
once, whether the real-time stage or a batch recompute made it, and the entry it makes is keyed
by the change (``trigger_id`` ``audience-{change id}``). Schedules are run by the runner: the
run number is the time since the version was published divided by ``every``, so each run's
entries are keyed by it (``schedule-{run}:{profile}``) and a run repeated after a restart, or by
a second runner, enters nobody twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from headwater.audiences import decode_json
from headwater.audiences import reads as audience_reads
from headwater.audiences import store as computations
from headwater.journeys import instances
from headwater.journeys.graph import Journey, parse_journey
from headwater.journeys.instances import Entering
from headwater.journeys.semantics import Entered, may_enter, missing_consent
from headwater.journeys.versions import Versions
from headwater.profiles import lookups
from headwater.storage import Transaction

__all__ = ["AudienceEntries", "Taking", "admitted", "run_schedules"]

_TRIGGERS = {"entered": "audience_entered", "exited": "audience_exited"}


class AudienceEntries:
    """Profiles entering journeys as they enter or leave audiences."""

    def __init__(self) -> None:
        self._versions = Versions()

    def _taking(self, row: Any) -> Taking:
        journey = self._versions.of_row(row)
        return Taking(row["id"], row["workspace_id"], row["version"], journey)

    async def changed(self, tx: Transaction, changes: Sequence[dict[str, Any]]) -> None:
        """Enter the profiles of audience ``changes`` (rows of the activation outbox) into the
        live journeys those changes trigger, by the journeys' entry rules."""
        now = datetime.now(UTC)
        wanted = [c for c in changes if c["kind"] == "audience" and c["change"] in _TRIGGERS]
        for workspace_id in sorted({c["workspace_id"] for c in wanted}):
            takings = [
                taking
                for row in await instances.running_journeys(tx, workspace_id)
                if row["state"] == "live"
                and (taking := self._taking(row)).journey.document.trigger.type
                in _TRIGGERS.values()
            ]
            if not takings:
                continue
            matched = [
                (taking, change["profile_id"], f"audience-{change['id']}")
                for change in wanted
                if change["workspace_id"] == workspace_id and change["cause"] != "merged"
                for taking in takings
                if taking.journey.document.trigger.type == _TRIGGERS[change["change"]]
                and getattr(taking.journey.document.trigger, "audience", None) == change["key"]
            ]
            entering = await admitted(tx, matched, now)
            await instances.enter(tx, entering, now)


async def run_schedules(tx: Transaction, workspace_ids: Sequence[int], now: datetime) -> int:
    """Enter the members of each due scheduled journey of the workspaces; how many entered."""
    entered = 0
    for workspace_id in workspace_ids:
        for row in await instances.running_journeys(tx, workspace_id):
            journey = parse_journey(decode_json(row["document"]))
            trigger = journey.document.trigger
            if row["state"] != "live" or trigger.type != "schedule":
                continue
            found = await computations.computations(
                tx, workspace_id, kind="audience", key=trigger.audience
            )
            if not found:
                continue
            since = await instances.published_at(tx, row["id"], row["version"])
            run = int((now - since) / trigger.every.span())
            members = await audience_reads.members(tx, found[0].id, after=None, limit=100_000)
            taking = Taking(row["id"], row["workspace_id"], row["version"], journey)
            entering = await admitted(
                tx,
                [
                    (taking, member["profile_id"], f"schedule-{run}:{member['profile_id']}")
                    for member in members
                ],
                now,
            )
            entered += await instances.enter(tx, entering, now)
    return entered


@dataclass(frozen=True)
class Taking:
    """A journey taking entries: its id, workspace and the version it runs, parsed."""

    id: int
    workspace_id: int
    version: int
    journey: Journey


async def admitted(
    tx: Transaction, candidates: Sequence[tuple[Taking, str, str]], now: datetime
) -> list[Entering]:
    """Those of ``(journey, profile, trigger id)`` its entry rules let in (without an
    instance key; with the consent it requires), in order: one let in counts for the next of
    the same profile."""
    if not candidates:
        return []
    asking = sorted({p for taking, p, _ in candidates if taking.journey.document.entry.consent})
    consents = await lookups.live_consent(tx, asking) if asking else {}
    known = await instances.history(
        tx, sorted({taking.id for taking, _, _ in candidates}), sorted({c[1] for c in candidates})
    )
    histories = {
        key: Entered(True, past.last_entered_at, past.running) for key, past in known.items()
    }
    entering: list[Entering] = []
    for taking, profile, trigger_id in candidates:
        document = taking.journey.document
        history = histories.get(
            (taking.id, profile), Entered(ever=False, last_entered_at=None, running=())
        )
        if not may_enter(document.entry, history, "", now):
            continue
        if missing_consent(document.entry, consents.get(profile, {})):
            continue
        histories[(taking.id, profile)] = Entered(True, now, (*history.running, ""))
        entering.append(
            Entering(
                workspace_id=taking.workspace_id,
                journey_id=taking.id,
                version=taking.version,
                profile_id=profile,
                instance_key="",
                trigger_id=trigger_id,
                start=document.start,
                context={"event": {}, "trigger": trigger_id},
                goal_until=None if document.goal is None else now + document.goal.within.span(),
            )
        )
    return entering
