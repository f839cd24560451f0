"""A journey's test run as the management API and the CLI ask for it: the journey (its draft,
a version, or a document not saved yet), a sample (a triggering Segment message; an existing
profile or traits given inline; later events with their times), then the path the sample
would take (``simulation.py``).

Read only, and by construction: this module reads (the journey, the profile, its entries so
far, the enabled destinations) in one connection that never commits, and the walk is pure.
Nothing is sent, queued or stored: no instance, no step, no call, no event in the log.

>>> await run_sample(engine, workspace="default", key="welcome",
...                sample=TrialSample(event={"type": "track", "userId": "u1",
...                                          "event": "Signed Up"}))
{'entered': True, 'entry': 'it enters: ...', 'steps': [...], ...}
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.audiences import decode_json, encode_json
from headwater.audiences.conditions import Condition
from headwater.audiences.evaluate import EventData
from headwater.destinations import enabled_destinations
from headwater.errors import BadRequest, NotFound
from headwater.journeys import instances, store
from headwater.journeys.graph import Journey, JourneyError, parse_journey, publish_problems
from headwater.journeys.semantics import Entered
from headwater.journeys.simulation import Later, Sample, Setting, simulate
from headwater.journeys.subjects import Profiles
from headwater.journeys.views import ProblemView, TrialRunView
from headwater.profiles import lookups
from headwater.spec import Envelope, Event, normalise, payload_object
from headwater.storage import Transaction, connected

__all__ = ["TrialSample", "run_sample"]

_SAMPLE_ID = "sample"
"""The profile id of a sample given inline (a random split's cohort depends on the id: a
real profile's is known only once it exists)."""


@dataclass(frozen=True)
class TrialSample:
    """What a test run is asked: ``event`` (a Segment message) starts it; ``profile_id`` or
    ``user_id`` name an existing profile (its traits, computed traits, audiences, events and
    entries so far), else the sample is ``traits`` alone; ``traits``, ``computed`` and
    ``audiences`` given with a profile are laid over (audiences: replace) its own, ``consent``
    (category -> consented) replaces its consent, and preferences the event carries
    (``context.consent.categoryPreferences``) replace both, as processing would; ``later``
    are ``(after, message)`` pairs; ``ignore_history`` lets a profile that entered before in
    again; ``failing`` names action nodes to take as failed."""

    event: Mapping[str, Any] | None = None
    profile_id: str | None = None
    user_id: str | None = None
    traits: Mapping[str, Any] = field(default_factory=dict)
    computed: Mapping[str, Any] = field(default_factory=dict)
    audiences: Sequence[str] | None = None
    later: Sequence[tuple[timedelta, Mapping[str, Any]]] = ()
    ignore_history: bool = False
    failing: Sequence[str] = ()
    consent: Mapping[str, bool] | None = None


async def run_sample(
    engine: AsyncEngine,
    *,
    workspace: str,
    key: str,
    sample: TrialSample,
    version: int | None = None,
    document: Any = None,
) -> TrialRunView:
    """The path ``sample`` would take through the journey ``key``: its draft, ``version``, or
    ``document`` (the editor's unsaved draft). 404 ``journey_not_found``,
    ``version_not_found``, ``profile_not_found``; 400 ``invalid_journey`` (with every
    problem) for a document that is not well formed or has no start, 400 ``invalid_sample``
    (with ``problems``) for a sample that cannot run."""
    start = datetime.now(UTC)
    named = sample.profile_id is not None or sample.user_id is not None
    trigger = _message(sample.event, "event", start, named=named)
    later = [
        _later(after, _message(message, f"later.{i}.event", start + after, named=named))
        for i, (after, message) in enumerate(sample.later)
    ]
    async with connected(engine) as tx:
        space = await workspaces.workspace_id(tx, workspace)
        row = await store.journey(tx, space, key)
        if row is None:
            raise NotFound("journey_not_found", f"no journey {key!r}")
        journey = _journey(await _document(tx, row, version, document))
        _fits(journey, sample, trigger)
        found = await _sample(tx, space, row.id, journey, sample, trigger, later)
        destinations = {
            d.id: d.name for d in await enabled_destinations(tx) if d.workspace_id == space
        }
    problems: list[ProblemView] = [
        {"path": p["path"], "message": p["message"]} for p in publish_problems(journey)
    ]
    setting = Setting(row.id, version or 0, destinations, start, problems)
    return simulate(journey, found, setting)


async def _document(tx: Transaction, row: Any, version: int | None, document: Any) -> Any:
    if document is not None:
        return document
    if version is None:
        return decode_json(row.draft)
    found = await store.version(tx, row.id, version)
    if found is None:
        raise NotFound("version_not_found", f"journey {row.key!r} has no version {version}")
    return decode_json(found.document)


def _journey(document: Any) -> Journey:
    try:
        journey = parse_journey(document)
    except JourneyError as error:
        raise BadRequest(
            "invalid_journey", f"invalid journey: {error}", problems=error.problems
        ) from None
    if journey.document.start not in journey.document.nodes:
        problems = [{"path": "start", "message": f"{journey.document.start!r} is not a node"}]
        raise BadRequest(
            "invalid_journey",
            "the journey has no start node yet: add a node to run it from",
            problems=problems,
        )
    return journey


def _bad(path: str, message: str) -> BadRequest:
    return BadRequest(
        "invalid_sample", f"{path}: {message}", problems=[{"path": path, "message": message}]
    )


def _fits(journey: Journey, sample: TrialSample, trigger: Event | None) -> None:
    """400 ``invalid_sample`` for what the journey cannot run with."""
    spec = journey.document.trigger
    if spec.type == "event" and trigger is None:
        wanted = spec.event or spec.event_type
        raise _bad("event", f"the journey starts on a {wanted!r} event: give one to run it with")
    if sample.profile_id is not None and sample.user_id is not None:
        raise _bad("profile_id", "name the profile by profile_id or by user_id, not both")
    for i, node_id in enumerate(sample.failing):
        node = journey.document.nodes.get(node_id)
        if node is None:
            raise _bad(f"failing.{i}", f"{node_id!r} is not a node of the journey")
        if node.type not in ("send", "webhook", "update_traits", "list_membership"):
            raise _bad(f"failing.{i}", f"{node_id!r} is a {node.type} node: only actions fail")


def _message(
    message: Mapping[str, Any] | None, path: str, at: datetime, *, named: bool
) -> Event | None:
    """The sample's Segment message, normalised as the tracking API does (400
    ``invalid_sample`` naming ``path`` when it is not one); its time is the run's. With a
    profile ``named``, the message needs no ``userId`` or ``anonymousId``: it is the
    profile's."""
    if message is None:
        return None
    plain = json.loads(encode_json(dict(message)))  # exact decimals as JSON numbers
    plain["timestamp"] = at.isoformat()
    if named and not (plain.get("userId") or plain.get("anonymousId")):
        plain["anonymousId"] = _SAMPLE_ID
    made = normalise(plain, index=0, route_type=None, envelope=Envelope(received_at=at))
    if not isinstance(made, Event):
        raise _bad(path, f"not a valid Segment message: {made.reason}")
    return made


def _data(event: Event) -> EventData:
    """The message as conditions see it (numbers with a fraction as exact decimals)."""
    payload = decode_json(encode_json(event.payload))
    properties = payload.get("properties")
    return EventData(
        event.message_id,
        event.type,
        event.name,
        event.timestamp,
        properties if isinstance(properties, dict) else {},
    )


def _preferences(event: Event) -> dict[str, bool] | None:
    """The consent preferences the message carries (None: none), as the profile keeps them."""
    context = payload_object(event).get("context")
    consent = context.get("consent") if isinstance(context, dict) else None
    found = consent.get("categoryPreferences") if isinstance(consent, dict) else None
    if not isinstance(found, dict):
        return None
    return {str(category): value is True for category, value in found.items()}


def _later(after: timedelta, event: Event | None) -> Later:
    assert event is not None  # every later item has its message
    traits: Any = decode_json(encode_json(event.payload)).get("traits")
    identify = event.type == "identify" and isinstance(traits, dict)
    return Later(after, _data(event), traits if identify else {}, _preferences(event))


async def _sample(
    tx: Transaction,
    space: int,
    journey_id: int,
    journey: Journey,
    sample: TrialSample,
    trigger: Event | None,
    later: list[Later],
) -> Sample:
    """The sample as the walk takes it: an existing profile's data (404 when there is no
    such profile), with what the sample gives laid over it; or the sample alone."""
    failing = frozenset(sample.failing)
    data = None if trigger is None else _data(trigger)
    carried = None if trigger is None else _preferences(trigger)
    profile = await _profile(tx, space, sample)
    if profile is None:
        identity = {} if trigger is None else _identity_of(trigger)
        return Sample(
            _SAMPLE_ID,
            dict(sample.traits),
            dict(sample.computed),
            frozenset(sample.audiences or ()),
            [],
            identity,
            data,
            later,
            failing=failing,
            consent=carried if carried is not None else dict(sample.consent or {}),
        )
    profiles = Profiles(tx, [(space, profile)])
    own = await profiles.traits(profile)
    subject = await profiles.subject(space, profile, _conditions(journey))
    computed = {k: v for k, v in subject.traits.items() if k not in own or own[k] != v}
    known = await instances.history(tx, [journey_id], [profile])
    past = known.get((journey_id, profile))
    history = (
        Entered(False, None, ())
        if past is None or sample.ignore_history
        else Entered(True, past.last_entered_at, past.running)
    )
    return Sample(
        profile,
        {**own, **sample.traits},
        {**computed, **sample.computed},
        subject.audiences if sample.audiences is None else frozenset(sample.audiences),
        subject.events,
        await profiles.identity(profile),
        data,
        later,
        history,
        failing,
        carried
        if carried is not None
        else dict(sample.consent)
        if sample.consent is not None
        else await profiles.consent(profile),
    )


async def _profile(tx: Transaction, space: int, sample: TrialSample) -> str | None:
    """The live profile the sample names (404 ``profile_not_found``), or None for none."""
    if sample.profile_id is not None:
        found = await lookups.survivor(tx, space, sample.profile_id)
        if found is None:
            raise NotFound("profile_not_found", f"no profile {sample.profile_id!r}")
        return found
    if sample.user_id is not None:
        (found,) = await lookups.resolve(tx, space, [("user_id", sample.user_id)])
        if found is None:
            raise NotFound("profile_not_found", f"no profile with userId {sample.user_id!r}")
        return found
    return None


def _identity_of(event: Event) -> dict[str, str]:
    found = {"userId": event.user_id, "anonymousId": event.anonymous_id}
    return {name: value for name, value in found.items() if value}


def _conditions(journey: Journey) -> list[Condition]:
    """Every condition of the journey's splits and waits (their events are loaded)."""
    found: list[Condition] = []
    for node_id, node in journey.document.nodes.items():
        config = journey.configs[node_id]
        if node.type == "split":
            found.extend(candidate.condition for candidate in config.branches)
        elif node.type == "wait_condition":
            found.append(config.condition)
    return found
