"""Erasing a person: every store that can hold their data, in one transaction.

:func:`erase` removes a :class:`~headwater.privacy.Person` (every profile merged together,
every identifier they hold) from each capability, through that capability's face: the event
log, the identity graph, audiences and computed traits, journeys, the delivery queue and dead
letters, the tracking plans' records, collection's records, the processing failures, the
reverse ETL syncs' state, and the file imports' row errors, samples and waiting uploads. Each
store's decision (what is removed, what is kept and why) is in docs/privacy.md, "What deletion
removes".

Precondition: the processor has processed every event appended before the call (the
regulation job waits for that). The person's events are then found through the profile
store's record of which event belongs to which profile (``profile_events``), and removed from
the log by offset, an index probe each, rather than by scanning the log for their ids (the log
has no index on ``userId`` or ``anonymousId``). The events that never reached a profile are
found through the records that point at them: the quarantine (blocked by a tracking plan) and
the processing failures (a stage failed on them), each naming the log offset.

Concurrency: the processor may be processing the person's events while erase runs. Erase takes
the identifier locks the profile stage takes (and the audience stage's profile locks), so the
two run one after the other on this person: a batch that holds them first is erased with the
rest (erase reads the person again once it holds them); a batch that comes after finds none
of the person's identifiers and starts a new profile, as Segment does after a ``DELETE_ONLY``
regulation (suppression is a regulation of its own).

>>> async with begin(engine) as tx:
...     person = await person_of(tx, workspace_id=1, subject_type="USER_ID", subject_id="u-1")
...     await erase(tx, person, log=log)
{'events': 12, 'profiles': 2, 'identifiers': 4, ...}
"""

from __future__ import annotations

from typing import Final

from headwater import (
    audiences,
    collect,
    delivery,
    destinations,
    hooks,
    imports,
    journeys,
    pipeline,
    profiles,
    protocols,
    retl,
)
from headwater.log import EventLog
from headwater.privacy.person import Person
from headwater.profiles import lookups
from headwater.storage import Transaction

__all__ = ["STORES", "erase"]

STORES: Final = (
    "events",
    "profiles",
    "identifiers",
    "identifier_mentions",
    "stray_mentions",
    "profile_events",
    "profile_merges",
    "account_links",
    "computed_values",
    "audience_changes",
    "journey_instances",
    "journey_steps",
    "journey_calls",
    "deliveries",
    "dead_letters",
    "delivery_errors",
    "delivered_users",
    "governed_payloads",
    "quarantine",
    "flagged",
    "violation_samples",
    "rejections",
    "duplicates",
    "dedup_keys",
    "hook_requests",
    "processing_failures",
    "retl_state",
    "retl_failures",
    *imports.FORGOTTEN,
)
"""The names :func:`erase` counts under, in this order: stable (a regulation's status shows
them). ``violation_samples`` counts samples removed, ``retl_failures`` reverse ETL runs whose
failure samples named the person, ``import_errors`` and ``import_samples`` the row errors
and sample rows removed from import jobs, ``import_uploads`` uploads ended before they ran,
the rest rows."""

_KIND: Final = "user"


async def erase(tx: Transaction, person: Person, *, log: EventLog) -> dict[str, int]:
    """Remove ``person`` from every store, within ``tx`` (begun: :func:`storage.begin`; never
    committed here); return how many rows each store lost (:data:`STORES`, every name
    present). A second call removes nothing and fails on nothing. ``log`` is the event log the
    processor reads; in the same database, its entries of the person go with ``tx``.

    Precondition: every event appended before the call has been processed (see the module)."""
    person = await _locked(tx, person)
    workspace_id, profile_ids = person.workspace_id, person.profile_ids
    linked = await profiles.person_events(tx, workspace_id, profile_ids)
    message_ids = {message_id for message_id, _ in linked}
    offsets = {offset for _, offset in linked}
    ids = [value for kind, value in person.identifiers if kind in ("user_id", "anonymous_id")]
    values = sorted({value.lower() for _, value in person.identifiers} | set(profile_ids))

    counts = dict.fromkeys(STORES, 0)
    failed, stranded = await pipeline.forget_failures(
        tx, workspace_id, log, sorted(message_ids), ids
    )
    counts["processing_failures"] = failed
    message_ids |= {message_id for message_id, _ in stranded}
    offsets |= {offset for _, offset in stranded}

    plans, blocked = await protocols.forget_records(
        tx, workspace_id, sorted(message_ids), sorted(offsets), values
    )
    counts |= plans
    message_ids |= {message_id for message_id, _ in blocked}
    offsets |= {offset for _, offset in blocked}

    counts["events"] = await log.forget(workspace_id, sorted(offsets), connection=tx.connection)
    destination_ids = await destinations.workspace_destination_ids(tx, workspace_id)
    counts |= await delivery.forget_deliveries(
        tx, destination_ids, sorted(message_ids), values, ids
    )
    counts |= await journeys.forget_profiles(tx, workspace_id, profile_ids)
    counts |= await audiences.forget_profiles(tx, profile_ids)
    counts |= await collect.forget_records(tx, workspace_id, sorted(message_ids), values)
    keys = sorted({value for _, value in person.identifiers} | set(values))
    counts |= await retl.forget_person(tx, workspace_id, keys, values)
    counts["hook_requests"] = await hooks.forget_requests(
        tx, workspace_id, sorted(message_ids), values
    )
    counts |= await imports.forget_person(tx, workspace_id, values)
    counts |= await profiles.forget_person(
        tx, workspace_id, profile_ids, person.identifiers, sorted(message_ids)
    )
    return counts


async def _locked(tx: Transaction, person: Person) -> Person:
    """``person`` as they are once their identifiers are locked: the profile stage's locks,
    taken in its order. A batch that merged more profiles or identifiers into the person
    before the locks were granted is read here, and its new identifiers locked too."""
    locked: set[tuple[str, str]] = set()
    while True:
        wanted = set(person.identifiers) - locked
        if not wanted:
            return person
        await profiles.lock_identifiers(tx, person.workspace_id, _KIND, wanted)
        locked |= wanted
        person = await _reread(tx, person)


async def _reread(tx: Transaction, person: Person) -> Person:
    """The person again: every profile and identifier now tied to any of their identifiers
    or profiles (those known before are kept, so nothing once named escapes)."""
    profile_ids = set(person.profile_ids)
    identifiers = set(person.identifiers)
    lives = await lookups.resolve(tx, person.workspace_id, sorted(identifiers))
    for live in {live for live in lives if live is not None}:
        family, held = await lookups.family(tx, person.workspace_id, live)
        profile_ids |= set(family)
        identifiers |= set(held)
    return Person(
        workspace_id=person.workspace_id,
        profile_ids=tuple(sorted(profile_ids)),
        identifiers=tuple(sorted(identifiers)),
    )
