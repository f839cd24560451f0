"""What each node, trigger and rule of a journey means, as pure functions: which events match,
when a delay ends, which branch or cohort a profile takes, whether a profile may enter.

The runner and the stage do the I/O and call these; the tests check the rules here without a
database. Events are :class:`~headwater.audiences.evaluate.EventData` (numbers as exact
decimals), so a journey's conditions mean what the same conditions mean in an audience.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from headwater.audiences.conditions import EventSpec
from headwater.audiences.evaluate import EventData, Subject, evaluate, matches
from headwater.audiences.values import is_number, lookup, parse_moment, split_path
from headwater.journeys.graph import Entry, Goal, Trigger
from headwater.journeys.nodes import Delay, RandomSplit, Split, TraitUpdate, WaitEvent, Window

__all__ = [
    "Due",
    "Entered",
    "branch",
    "cohort",
    "consent_refusal",
    "delay_due",
    "instance_key",
    "matches_any",
    "may_enter",
    "missing_consent",
    "refusal",
    "render",
    "trait_changes",
    "triggered_by",
    "waited_port",
]


def triggered_by(trigger: Trigger, event: EventData, now: datetime) -> bool:
    """Whether ``event`` starts the journey (an event trigger whose spec it matches)."""
    return trigger.type == "event" and matches(trigger, event, now)


def matches_any(specs: Sequence[EventSpec], event: EventData, now: datetime) -> bool:
    """Whether ``event`` matches one of ``specs`` (exit rules)."""
    return any(matches(spec, event, now) for spec in specs)


def waited_port(config: WaitEvent, event: EventData, now: datetime) -> str | None:
    """The port of the first awaited event ``event`` matches, or None."""
    for awaited in config.events:
        if matches(awaited, event, now):
            return awaited.port
    return None


def goal_reached(goal: Goal, event: EventData, now: datetime) -> bool:
    return matches(goal, event, now)


def branch(config: Split, subject: Subject, now: datetime) -> str:
    """The first branch whose condition holds for the profile, else ``else``."""
    for candidate in config.branches:
        if evaluate(candidate.condition, subject, now):
            return candidate.port
    return "else"


def cohort(config: RandomSplit, *, journey_id: int, node_id: str, profile_id: str) -> str:
    """The profile's cohort, by weight, the same every time for this node of this journey
    (a hash of the three, not a random draw: sticky across retries, restarts and re-entries)."""
    digest = hashlib.sha256(f"{journey_id}\x00{node_id}\x00{profile_id}".encode()).digest()
    total = sum(c.weight for c in config.cohorts)
    point = int.from_bytes(digest[:8], "big") % total
    for candidate in config.cohorts:
        if point < candidate.weight:
            return candidate.port
        point -= candidate.weight
    raise AssertionError("a point below the total weight falls in a cohort")


@dataclass(frozen=True)
class Due:
    """When a delay ends, and why it ends then (kept with the step, for people to read)."""

    at: datetime
    why: str


def delay_due(config: Delay, since: datetime, traits: Mapping[str, Any]) -> Due:
    """When a delay that began at ``since`` ends for a profile with ``traits``.

    A duration counts from ``since``; ``until_trait`` is the moment the trait holds (an
    ISO-8601 time, or a date: midnight in the profile's time zone), moved by ``offset``. A
    trait that is missing or not a time ends the delay at once (the step says so). With a
    ``window``, an end outside its hours moves to the next opening, in the time zone named by
    the trait ``time_zone_trait`` (UTC when missing or unknown).
    """
    zone = _zone(traits.get(config.time_zone_trait))
    if config.duration is not None:
        due = Due(since + config.duration.span(), "duration")
    else:
        assert config.until_trait is not None  # validated: one of the two
        moment = _moment(traits.get(config.until_trait), zone)
        if moment is None:
            return Due(since, f"trait {config.until_trait!r} holds no time: no wait")
        if config.offset is not None:
            span = config.offset.span()
            moment = moment - span if config.before else moment + span
        due = Due(max(moment, since), f"trait {config.until_trait}")
    if config.window is None:
        return due
    opened = _in_window(due.at, config.window, zone)
    return Due(opened, due.why if opened == due.at else f"{due.why}, then the window")


def _zone(name: Any) -> ZoneInfo:
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def _moment(value: Any, zone: ZoneInfo) -> datetime | None:
    """A trait's value as an aware time: a date alone is midnight in ``zone``."""
    if isinstance(value, str) and len(value) == 10:
        try:
            day = datetime.strptime(value, "%Y-%m-%d")
        except ValueError:
            return None
        return day.replace(tzinfo=zone).astimezone(UTC)
    return parse_moment(value)


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _in_window(at: datetime, window: Window, zone: ZoneInfo) -> datetime:
    """``at`` if the window is open then (in ``zone``), else the window's next opening."""
    local = at.astimezone(zone)
    start, end = _clock(window.start), _clock(window.end)
    now = local.time()
    open_now = start <= now < end if start < end else now >= start or now < end
    if open_now:
        return at
    opening = datetime.combine(local.date(), start, tzinfo=zone)
    if opening <= local:
        opening = datetime.combine(local.date() + timedelta(days=1), start, tzinfo=zone)
    return opening.astimezone(UTC)


def instance_key(entry: Entry, properties: Mapping[str, Any]) -> str | None:
    """The instance key of an entry triggered by an event with ``properties`` ('' without an
    ``instance_key`` rule); None when the rule names a property the event lacks (it enters
    nobody: an order journey needs the order)."""
    if entry.instance_key is None:
        return ""
    value = lookup(properties, split_path(entry.instance_key))
    if value is None or isinstance(value, dict | list):
        return None
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class Entered:
    """A profile's history in one journey, as much as the entry rules look at."""

    ever: bool
    """Whether it ever entered (with any key)."""
    last_entered_at: datetime | None
    running: Sequence[str]
    """The instance keys of its instances in the journey now."""


def missing_consent(entry: Entry, consent: Mapping[str, bool]) -> list[str]:
    """The consent categories the journey requires that ``consent`` (category -> consented,
    the profile's newest preferences) does not grant, in the entry rule's order.

    >>> missing_consent(Entry(consent=["Marketing", "Email"]), {"Marketing": True})
    ['Email']
    """
    return [category for category in entry.consent if consent.get(category) is not True]


def consent_refusal(entry: Entry, consent: Mapping[str, bool]) -> str | None:
    """Why the entry rule's consent keeps the profile out (None: it consents to all)."""
    missing = missing_consent(entry, consent)
    if not missing:
        return None
    return "it has not consented to " + ", ".join(missing)


def may_enter(entry: Entry, history: Entered, key: str, now: datetime) -> bool:
    """Whether a profile with ``history`` may enter again now with instance key ``key``."""
    return refusal(entry, history, key, now) is None


def refusal(entry: Entry, history: Entered, key: str, now: datetime) -> str | None:
    """Why the entry rule keeps a profile with ``history`` out now with instance key ``key``
    (None: it may enter).

    >>> refusal(Entry(), Entered(True, None, ()), "", datetime.now(UTC))
    'it entered before, and the entry rule is once per profile'
    """
    if key in history.running:
        named = f" with instance key {key!r}" if key else ""
        return f"it is in the journey now{named}"
    if len(history.running) >= entry.max_instances:
        return f"it is in the journey {len(history.running)} times at once, the most allowed"
    if entry.mode == "once" and history.ever:
        return "it entered before, and the entry rule is once per profile"
    if entry.mode == "cooldown" and history.last_entered_at is not None:
        assert entry.cooldown is not None  # validated: cooldown mode has one
        again = history.last_entered_at + entry.cooldown.span()
        if now < again:
            entered = history.last_entered_at.isoformat()
            return f"it entered at {entered}: the cooldown ends at {again.isoformat()}"
    return None


_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """``value`` with each ``{{ path }}`` replaced by what ``path`` names in ``scope``
    (``traits.first_name``, ``event.order_id``, ``profile.id``); a string that is one
    placeholder alone takes the value's own type; what names nothing becomes empty (in a
    string) or null.

    >>> render({"hi": "Hello {{ traits.name }}!", "n": "{{ traits.n }}"},
    ...        {"traits": {"name": "Ada", "n": 3}})
    {'hi': 'Hello Ada!', 'n': 3}
    """
    if isinstance(value, dict):
        return {key: render(item, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, scope) for item in value]
    if not isinstance(value, str):
        return value
    alone = _PLACEHOLDER.fullmatch(value.strip())
    if alone is not None:
        return lookup(scope, split_path(alone[1]))
    return _PLACEHOLDER.sub(lambda m: _text(lookup(scope, split_path(m[1]))), value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def trait_changes(updates: Sequence[TraitUpdate], current: Mapping[str, Any]) -> dict[str, Any]:
    """The traits an update node sets on a profile whose traits are ``current``, in order:
    ``set``; ``set_once`` (only a trait without a value); ``unset`` (null); ``increment`` (a
    number, from 0 when the trait holds none); ``append`` (to the list the trait holds, or a
    new list). Later updates see the earlier ones.

    >>> trait_changes([TraitUpdate(op="increment", trait="n", value=2),
    ...                TraitUpdate(op="set_once", trait="plan", value="pro")],
    ...               {"n": 1, "plan": "free"})
    {'n': 3}
    """
    seen = dict(current)
    changes: dict[str, Any] = {}
    for update in updates:
        held = seen.get(update.trait)
        if update.op == "set":
            value = update.value
        elif update.op == "set_once":
            if held is not None:
                continue
            value = update.value
        elif update.op == "unset":
            value = None
        elif update.op == "increment":
            value = (held if is_number(held) else 0) + update.value
        else:
            items = list(held) if isinstance(held, list) else ([] if held is None else [held])
            value = [*items, update.value]
        seen[update.trait] = changes[update.trait] = value
    return changes
