"""What each step of a journey decides, as pure functions over the data it needs: whether a
node holds the instance or which port it leaves by, where the instance goes next or how it
ends, and the exact message or request an action produces.

The runner (``runner.py``) loads the data from PostgreSQL, calls these and writes the results;
the test run (``simulation.py``) calls the same functions on a sample and a virtual clock, so a
test run shows what the runner would do, not a second opinion of it.

>>> from datetime import UTC, datetime
>>> from headwater.journeys.nodes import Delay, Duration
>>> delay_step(Delay(duration=Duration(hours=2)), datetime(2026, 1, 1, tzinfo=UTC), {},
...            datetime(2026, 1, 1, 1, tzinfo=UTC))
Hold(until=datetime.datetime(2026, 1, 1, 2, 0, tzinfo=datetime.timezone.utc), why='duration')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from headwater.audiences.evaluate import Subject, evaluate
from headwater.journeys.graph import Journey
from headwater.journeys.nodes import Delay, Send, WaitCondition, WaitEvent, Webhook
from headwater.journeys.semantics import delay_due, render

__all__ = [
    "NO_IDENTITY",
    "RECHECK",
    "Hold",
    "Leave",
    "call_headers",
    "condition_ends",
    "condition_met",
    "condition_timeout",
    "delay_step",
    "ending",
    "identify_call",
    "leads_to",
    "no_destination",
    "scope_of",
    "track_event",
    "traits_set",
    "wait_event_step",
    "webhook_request",
    "where",
]

RECHECK: Final = timedelta(minutes=5)
"""How often a wait for a condition looks again without an event of the profile."""

NO_IDENTITY: Final = "the profile has no user id or anonymous id to send as"
NO_IDENTITY_FOR_TRAITS: Final = "the profile has no user id or anonymous id to set traits for"


@dataclass(frozen=True)
class Hold:
    """The node keeps the instance until ``until`` (None: until something wakes it);
    ``why`` it ends then, for a delay."""

    until: datetime | None
    why: str | None = None


@dataclass(frozen=True)
class Leave:
    """The instance leaves the node by ``port`` (None for ``goto`` and ``exit``), and why."""

    port: str | None
    why: str | None = None


def delay_step(
    config: Delay, since: datetime, traits: Mapping[str, Any], now: datetime
) -> Hold | Leave:
    """A delay that began at ``since``: held until its end, then ``out`` (why it ended then)."""
    due = delay_due(config, since, traits)
    return Hold(due.at, due.why) if due.at > now else Leave("out", due.why)


def wait_event_step(config: WaitEvent, since: datetime) -> Hold:
    """A wait for events holds the instance until its timeout (the stage wakes it sooner)."""
    return Hold(since + config.timeout.span())


def condition_ends(config: WaitCondition, since: datetime) -> datetime:
    """When a wait for a condition that began at ``since`` times out."""
    return since + config.timeout.span()


def condition_timeout(config: WaitCondition, since: datetime, now: datetime) -> Leave | None:
    """``timeout`` once a wait for a condition that began at ``since`` has run out of time
    (looked at before the profile is loaded: a timed-out wait needs none of it)."""
    return Leave("timeout") if now >= condition_ends(config, since) else None


def condition_met(
    config: WaitCondition, subject: Subject, since: datetime, now: datetime
) -> Hold | Leave:
    """``met`` when the condition holds for ``subject`` now; else held until the next look
    (every :data:`RECHECK`, for what time or a batch recompute changes) or the timeout."""
    if evaluate(config.condition, subject, now):
        return Leave("met")
    return Hold(min(condition_ends(config, since), now + RECHECK))


def leads_to(journey: Journey, node_id: str, port: str | None) -> str | None:
    """The node an instance leaving ``node_id`` by ``port`` goes on to (``goto``'s target);
    None when the way ends there (an ``exit``, or a port left unconnected)."""
    node = journey.node(node_id)
    if node.type == "exit":
        return None
    if node.type == "goto":
        target: str = journey.configs[node_id].node
        return target
    return node.next.get(port or "")


def ending(kind: str, port: str | None) -> tuple[str, str]:
    """``(state, reason)`` of an instance whose way ends at a node of type ``kind`` left by
    ``port``: an exit completes it, an unconnected ``error`` port fails it, any other
    unconnected port completes it (reason ``end``)."""
    if kind == "exit":
        return "completed", "exit"
    if port == "error":
        return "failed", "error"
    return "completed", "end"


def no_destination(destination: int) -> str:
    """Why a send takes its ``error`` port when its destination cannot take it."""
    return f"destination {destination} is deleted or disabled"


def where(journey_id: int, version: int, node_id: str, instance: int | str) -> dict[str, Any]:
    """Where in which journey a message comes from (its ``context.journey``)."""
    return {"id": journey_id, "version": version, "node": node_id, "instance": instance}


def scope_of(
    traits: Mapping[str, Any], event: Mapping[str, Any], profile_id: str
) -> dict[str, Any]:
    """What templates name: ``traits``, ``event`` (the trigger's properties), ``profile``."""
    return {"traits": dict(traits), "event": dict(event), "profile": {"id": profile_id}}


def _stamp(now: datetime) -> str:
    return now.isoformat().replace("+00:00", "Z")


def track_event(
    config: Send,
    *,
    identity: Mapping[str, str],
    scope: Mapping[str, Any],
    message_id: str,
    now: datetime,
    origin: Mapping[str, Any],
) -> dict[str, Any]:
    """The track event a send node queues for its destination: ``config.event`` with its
    properties rendered from ``scope``, sent as ``identity`` (``userId``, ``anonymousId``)."""
    return {
        "type": "track",
        "event": config.event,
        **identity,
        "properties": render(config.properties, scope),
        "messageId": message_id,
        "timestamp": _stamp(now),
        "receivedAt": _stamp(now),
        "context": {"journey": dict(origin)},
    }


def identify_call(
    changes: Mapping[str, Any],
    *,
    identity: Mapping[str, str],
    message_id: str,
    now: datetime,
    origin: Mapping[str, Any],
) -> dict[str, Any]:
    """The identify call an update of traits appends to the event log (``changes`` as its
    traits); the log's normalisation then makes it an event like any other."""
    return {
        "type": "identify",
        **identity,
        "traits": dict(changes),
        "messageId": message_id,
        "timestamp": now.isoformat(),
        "context": {"journey": dict(origin)},
    }


def traits_set(changes: Mapping[str, Any]) -> str:
    """The step's detail for an update of traits."""
    return "set " + ", ".join(sorted(changes)) if changes else "nothing to change"


def webhook_request(
    config: Webhook, *, scope: Mapping[str, Any], origin: Mapping[str, Any], key: str
) -> dict[str, Any]:
    """The request a webhook node queues: the node's ``body`` rendered from ``scope``, or the
    journey, the profile with its traits and the triggering event's properties."""
    body = (
        render(config.body, scope)
        if config.body is not None
        else {
            "journey": dict(origin),
            "profile": {**scope["profile"], "traits": scope["traits"]},
            "event": scope["event"],
        }
    )
    return {
        "url": config.url,
        "method": config.method,
        "headers": config.headers,
        "body": body,
        "idempotency_key": key,
    }


def call_headers(request: Mapping[str, Any]) -> dict[str, str]:
    """The headers a queued webhook request is sent with."""
    return {
        **request.get("headers", {}),
        "Content-Type": "application/json",
        "Idempotency-Key": request["idempotency_key"],
        "User-Agent": "Headwater journeys",
    }
