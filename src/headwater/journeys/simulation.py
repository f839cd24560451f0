"""A journey's test run: a sample profile and event walked through the graph on a virtual
clock, with the side effects described, never done. Pure: the service (``testrun.py``) loads
what the sample names and calls :func:`simulate`.

The walk takes the runner's decisions (``decide.py``, ``semantics.py``): the same delays,
branches, cohorts, entry rules, rendered messages and ends. Time is simulated: a delay or a
wait moves the clock to its end at once, and the sample's later events (``Later``, each some
time after the entry) arrive in order while the profile waits, as the journey stage would see
them: an exit rule they match ends the run, an awaited event wakes its wait, a goal reached
counts a conversion, an identify's traits change the profile. A wait for a condition looks
on arrival and after each later event (the runner also looks every few minutes, for what
only time changes: in a test run, that shows as the timeout).

Webhooks are taken as answered with a 2xx (``out``) unless the sample names the node in
``failing`` (then ``error``, as any action node named there). A journey only goes forward, but
a draft may not yet: a run stops after :data:`MAX_STEPS` steps, saying so.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from headwater.audiences.evaluate import EventData, Subject
from headwater.journeys.decide import (
    NO_IDENTITY,
    NO_IDENTITY_FOR_TRAITS,
    Leave,
    call_headers,
    condition_ends,
    condition_met,
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
from headwater.journeys.graph import Journey, Trigger
from headwater.journeys.nodes import CREDENTIAL, NODE_TYPES
from headwater.journeys.semantics import (
    Entered,
    branch,
    cohort,
    consent_refusal,
    goal_reached,
    instance_key,
    matches_any,
    missing_consent,
    refusal,
    trait_changes,
    triggered_by,
    waited_port,
)
from headwater.journeys.views import (
    ProblemView,
    TrialEffectView,
    TrialEventView,
    TrialRunView,
    TrialStepView,
)
from headwater.spec import format_timestamp

__all__ = ["MASKED", "MAX_STEPS", "Later", "Sample", "Setting", "masked_request", "simulate"]

MAX_STEPS: Final = 200
"""Steps a test run takes at most (a published journey has no loop; a draft may)."""

MASKED: Final = "[masked]"
_INSTANCE: Final = "test"
"""The instance id in a test run's message ids and ``context.journey``."""


@dataclass(frozen=True)
class Later:
    """An event of the sample's script, ``after`` the entry; an identify's ``traits`` are
    laid over the profile's when it arrives, and consent preferences it carries (``consent``,
    None when it carries none) replace the profile's."""

    after: timedelta
    event: EventData
    traits: Mapping[str, Any] = field(default_factory=dict)
    consent: Mapping[str, bool] | None = None


@dataclass(frozen=True)
class Sample:
    """Who goes through the run and what happens to them.

    ``computed`` are computed traits' values by key (conditions read them with the traits;
    templates and delays only the traits); ``events`` are the profile's past events the
    conditions count; ``identity`` the ``userId``/``anonymousId`` a send goes as; ``trigger``
    the event that starts the run (None for a journey that no event triggers); ``history``
    its entries so far; ``failing`` the action nodes to take as failed; ``consent`` its consent
    (category -> consented) as the trigger leaves it."""

    profile_id: str
    traits: Mapping[str, Any]
    computed: Mapping[str, Any]
    audiences: frozenset[str]
    events: Sequence[EventData]
    identity: Mapping[str, str]
    trigger: EventData | None
    later: Sequence[Later] = ()
    history: Entered = field(default_factory=lambda: Entered(False, None, ()))
    failing: frozenset[str] = frozenset()
    consent: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Setting:
    """Where the run happens: the journey's id and version (0: its draft), the workspace's
    enabled destinations (id -> name), the start of the virtual clock, the document's
    publishing problems (shown with the run)."""

    journey_id: int
    version: int
    destinations: Mapping[int, str]
    start: datetime
    problems: Sequence[ProblemView] = ()


State = Literal["completed", "failed", "exited", "not_entered", "stopped"]


@dataclass
class _Ended:
    state: State
    outcome: str


def simulate(journey: Journey, sample: Sample, setting: Setting) -> TrialRunView:
    """The test run of ``sample`` through ``journey``: see the module docstring."""
    return _Run(journey, sample, setting).result()


class _Run:
    def __init__(self, journey: Journey, sample: Sample, setting: Setting) -> None:
        self.journey, self.sample, self.setting = journey, sample, setting
        self.clock = setting.start
        self.traits = dict(sample.traits)
        self.consent = dict(sample.consent)
        self.seen = [*sample.events, *([sample.trigger] if sample.trigger else [])]
        self.pending = deque(sorted(enumerate(sample.later), key=lambda item: item[1].after))
        self.outcomes: dict[int, str] = {}
        self.steps: list[TrialStepView] = []
        self.converted: datetime | None = None
        goal = journey.document.goal
        self.goal_until = None if goal is None else setting.start + goal.within.span()

    def result(self) -> TrialRunView:
        refused = self._refused()
        if refused is not None:
            ended = _Ended("not_entered", "it does not enter: " + refused)
            entry = refused
        else:
            entry = self._admitted()
            ended = self._walk()
        self._after_the_end()
        return {
            "entered": refused is None,
            "entry": entry,
            "profile_id": self.sample.profile_id,
            "started_at": format_timestamp(self.setting.start),
            "steps": self.steps,
            "state": ended.state,
            "outcome": ended.outcome,
            "ended_at": None if refused is not None else format_timestamp(self.clock),
            "converted_at": None if self.converted is None else format_timestamp(self.converted),
            "events": [self._event_view(i, later) for i, later in enumerate(self.sample.later)],
            "problems": list(self.setting.problems),
        }

    # Entry.

    def _refused(self) -> str | None:
        """Why the sample would not enter (None: it would)."""
        document = self.journey.document
        trigger, event = document.trigger, self.sample.trigger
        key = ""
        if trigger.type == "event":
            assert event is not None  # the service asks for it
            if not triggered_by(trigger, event, self.clock):
                return _mismatch(trigger, event)
            if trigger.audience is not None and trigger.audience not in self.sample.audiences:
                return f"it is not in audience {trigger.audience!r}, the trigger's"
            found = instance_key(document.entry, event.properties)
            if found is None:
                return f"the event has no {document.entry.instance_key!r}, the instance key"
            key = found
        elif trigger.type == "schedule" and trigger.audience not in self.sample.audiences:
            return f"it is not in audience {trigger.audience!r}, whose members the schedule takes"
        return refusal(document.entry, self.sample.history, key, self.clock) or consent_refusal(
            document.entry, self.consent
        )

    def _admitted(self) -> str:
        trigger = self.journey.document.trigger
        how = {
            "event": "the event matches the trigger",
            "manual": "started by hand (the journey's trigger is manual)",
            "audience_entered": f"as if it had just entered audience {_audience(trigger)!r}",
            "audience_exited": f"as if it had just left audience {_audience(trigger)!r}",
            "schedule": f"at the schedule's next run, as a member of {_audience(trigger)!r}",
        }[trigger.type]
        return (
            f"it enters: {how}, and the entry rule ({self.journey.document.entry.mode}) lets it in"
        )

    # The walk.

    def _walk(self) -> _Ended:
        journey = self.journey
        node_id = journey.document.start
        for _ in range(MAX_STEPS):
            if node_id not in journey.document.nodes:
                return _Ended("stopped", f"the way leads to {node_id!r}, which is not a node")
            missing = missing_consent(journey.document.entry, self.consent)
            if missing:
                withdrawn = "it no longer consents to " + ", ".join(missing)
                self._record(node_id, None, withdrawn, None)
                return _Ended("exited", withdrawn + " (consent_withdrawn)")
            kind = journey.node(node_id).type
            taken = self._decide(node_id, kind)
            if isinstance(taken, _Ended):
                self._record(node_id, None, taken.outcome, None)  # where it was when it left
                return taken
            port, why, effect = taken
            self._record(node_id, port, why, effect)
            target = leads_to(journey, node_id, port)
            if target is None:
                state, reason = ending(kind, port)
                return _Ended("failed" if state == "failed" else "completed", _ends(reason, why))
            node_id = target
        return _Ended(
            "stopped",
            f"the run stopped after {MAX_STEPS} steps: the draft goes round in a loop"
            " (a journey only goes forward; publishing refuses it)",
        )

    def _decide(
        self, node_id: str, kind: str
    ) -> tuple[str | None, str, TrialEffectView | None] | _Ended:
        config = self.journey.configs[node_id]
        if kind == "delay":
            return self._delay(node_id, config)
        if kind == "wait_event":
            return self._wait_event(node_id, config)
        if kind == "wait_condition":
            return self._wait_condition(node_id, config)
        if kind == "split":
            port = branch(config, self._subject(), self.clock)
            why = (
                "no branch matched: everyone else" if port == "else" else f"branch {port!r} matched"
            )
            return port, why, None
        if kind == "random_split":
            return self._cohort(node_id, config)
        if kind == "goto":
            return None, f"goes to {config.node!r}", None
        if kind == "exit":
            return None, "the journey ends here", None
        return self._action(node_id, kind, config)

    def _delay(self, node_id: str, config: Any) -> tuple[str, str, None] | _Ended:
        since = self.clock
        step = delay_step(config, since, self.traits, since)
        if isinstance(step, Leave):
            return "out", f"no wait ({step.why})", None
        assert step.until is not None  # a delay always ends
        ended = self._meanwhile(step.until, node_id)
        if ended is not None:
            return ended
        self.clock = step.until
        return "out", f"waited {_span(step.until - since)} ({step.why})", None

    def _wait_event(self, node_id: str, config: Any) -> tuple[str, str, None] | _Ended:
        since = self.clock
        until = wait_event_step(config, since).until
        assert until is not None  # a wait for events has a timeout

        def woken(event: EventData) -> str | None:
            return waited_port(config, event, event.timestamp)

        ended = self._meanwhile(until, node_id, woken)
        if ended is not None:
            return ended
        self.clock = until
        return "timeout", f"timed out after {_span(until - since)}: no awaited event came", None

    def _wait_condition(self, node_id: str, config: Any) -> tuple[str, str, None] | _Ended:
        since = self.clock
        step = condition_met(config, self._subject(), since, since)
        if isinstance(step, Leave):
            return "met", "the condition held on arrival", None
        until = condition_ends(config, since)

        def woken(event: EventData) -> str | None:
            met = condition_met(config, self._subject(), since, event.timestamp)
            return "met" if isinstance(met, Leave) else None

        ended = self._meanwhile(until, node_id, woken)
        if ended is not None:
            return ended
        self.clock = until
        why = (
            f"timed out after {_span(until - since)}: the condition did not hold on arrival"
            " or after any later event"
        )
        return "timeout", why, None

    def _cohort(self, node_id: str, config: Any) -> tuple[str, str, None]:
        port = cohort(
            config,
            journey_id=self.setting.journey_id,
            node_id=node_id,
            profile_id=self.sample.profile_id,
        )
        weight = next(c.weight for c in config.cohorts if c.port == port)
        total = sum(c.weight for c in config.cohorts)
        why = f"cohort {port!r} (weight {weight} of {total}; this profile always lands in it)"
        return port, why, None

    # Actions: described, never done.

    def _action(
        self, node_id: str, kind: str, config: Any
    ) -> tuple[str, str, TrialEffectView | None]:
        origin = where(self.setting.journey_id, self.setting.version, node_id, _INSTANCE)
        message_id = f"hwj-{_INSTANCE}-{len(self.steps)}"
        identity = self.sample.identity
        scope = scope_of(self.traits, self._event_properties(), self.sample.profile_id)
        effect: TrialEffectView
        if kind == "send":
            name = self.setting.destinations.get(config.destination)
            if name is None:
                return "error", no_destination(config.destination), None
            if not identity:
                return "error", NO_IDENTITY, None
            event = track_event(
                config,
                identity=identity,
                scope=scope,
                message_id=message_id,
                now=self.clock,
                origin=origin,
            )
            summary = f"would queue {config.event!r} for destination {config.destination} ({name})"
            effect = _effect("send", summary, event, config.destination)
        elif kind == "webhook":
            request = webhook_request(config, scope=scope, origin=origin, key=message_id)
            shown = masked_request({**request, "headers": call_headers(request)})
            effect = _effect("webhook", f"would call {config.method} {shown['url']}", shown)
        elif kind == "update_traits":
            changes = trait_changes(config.updates, self.traits)
            if not changes:
                return "out", traits_set(changes), None
            if not identity:
                return "error", NO_IDENTITY_FOR_TRAITS, None
            call = identify_call(
                changes, identity=identity, message_id=message_id, now=self.clock, origin=origin
            )
            self.traits.update(changes)
            effect = _effect("traits", f"would {traits_set(changes)}", call)
        else:
            verb = "add the profile to" if config.action == "add" else "remove the profile from"
            change = {"action": config.action, "audience": config.audience}
            effect = _effect("list", f"would {verb} list audience {config.audience!r}", change)
        if node_id in self.sample.failing:
            return "error", "failed, as this test run was asked to take it", effect
        return "out", _done(kind), effect

    # Later events, while the profile waits.

    def _meanwhile(
        self,
        until: datetime,
        node_id: str,
        woken: Callable[[EventData], str | None] | None = None,
    ) -> tuple[str, str, None] | _Ended | None:
        """The later events that arrive before ``until``, in order, while the profile waits
        at ``node_id``: an exit ends the run; ``woken`` (the wait's rule) gives the port an
        event moves it on by. None when none of them moves it."""
        label = self._label(node_id)
        while self.pending and self._time(self.pending[0][1]) < until:
            index, later = self.pending.popleft()
            at = self.clock = self._time(later)
            self._arrive(index, later)
            document = self.journey.document
            if document.exits and matches_any(document.exits, later.event, at):
                self._note(index, f"matched an exit rule at {label}: the profile left")
                return _Ended("exited", f"it left by an exit rule at {label}, {_plus(at, self)}")
            port = None if woken is None else woken(later.event)
            if port is not None:
                self._note(index, f"moved the profile on from {label} by {port!r}")
                return port, f"event {_name(later.event)} at {_plus(at, self)}", None
            self._note(index, f"arrived while the profile waited at {label}; nothing waited for it")
        return None

    def _arrive(self, index: int, later: Later) -> None:
        self.traits.update(later.traits)
        if later.consent is not None:
            self.consent = dict(later.consent)
        self.seen.append(later.event)
        at = self._time(later)
        goal = self.journey.document.goal
        if (
            goal is not None
            and self.converted is None
            and self.goal_until is not None
            and at <= self.goal_until
            and goal_reached(goal, later.event, at)
        ):
            self.converted = at
            self._note(index, "reached the goal")

    def _after_the_end(self) -> None:
        """Later events after the run ended: only the goal still counts them."""
        while self.pending:
            index, later = self.pending.popleft()
            self._arrive(index, later)
            if index not in self.outcomes:
                self._note(index, "came after the profile's way through the journey ended")

    def _note(self, index: int, outcome: str) -> None:
        known = self.outcomes.get(index)
        self.outcomes[index] = outcome if known is None else f"{known}; {outcome}"

    # What the steps see.

    def _time(self, later: Later) -> datetime:
        return self.setting.start + later.after

    def _subject(self) -> Subject:
        seen = [event for event in self.seen if event.timestamp <= self.clock]
        traits = {**self.traits, **self.sample.computed}
        return Subject(traits=traits, events=seen, audiences=self.sample.audiences)

    def _event_properties(self) -> Mapping[str, Any]:
        """What ``{{ event.x }}`` names: the triggering event's properties (none without one,
        as for a journey no event triggers)."""
        trigger = self.sample.trigger
        if trigger is None or self.journey.document.trigger.type != "event":
            return {}
        return trigger.properties

    def _label(self, node_id: str) -> str:
        return repr(self.journey.node(node_id).label or node_id)

    def _record(
        self, node_id: str, port: str | None, why: str, effect: TrialEffectView | None
    ) -> None:
        node = self.journey.node(node_id)
        self.steps.append(
            {
                "node": node_id,
                "label": node.label or node_id,
                "type": node.type,
                "title": NODE_TYPES[node.type].title,
                "port": port,
                "why": why,
                "at": format_timestamp(self.clock),
                "elapsed": int((self.clock - self.setting.start).total_seconds()),
                "effect": effect,
            }
        )

    def _event_view(self, index: int, later: Later) -> TrialEventView:
        at = self._time(later)
        return {
            "event": _name(later.event),
            "at": format_timestamp(at),
            "elapsed": int(later.after.total_seconds()),
            "outcome": self.outcomes.get(index, "not reached"),
        }


def _effect(
    kind: Literal["send", "webhook", "traits", "list"],
    summary: str,
    payload: Any,
    destination: int | None = None,
) -> TrialEffectView:
    return {"kind": kind, "summary": summary, "destination": destination, "payload": payload}


def _done(kind: str) -> str:
    return {
        "send": "it would be queued; a test run queues nothing",
        "webhook": "taken as answered with a 2xx; a test run sends nothing",
        "update_traits": "they would be set; a test run changes nothing",
        "list_membership": (
            "list audiences do not exist yet: this node cannot be published in this version"
        ),
    }[kind]


def _ends(reason: str, why: str) -> str:
    return {
        "exit": "it completed the journey at an exit",
        "end": "it completed the journey: the port it left by leads nowhere",
        "error": f"it failed: {why}",
    }[reason]


def _audience(trigger: Trigger) -> str:
    return str(getattr(trigger, "audience", ""))


def _mismatch(trigger: Any, event: EventData) -> str:
    """Why an event does not start a journey with an event trigger."""
    if event.type != trigger.event_type:
        return f"the trigger takes {trigger.event_type} calls, and the event is a {event.type}"
    if trigger.event is not None and event.name != trigger.event:
        return f"the trigger takes {trigger.event!r}, and the event is {event.name!r}"
    return f"the event is {_name(event)}, but its properties do not meet the trigger's filters"


def _name(event: EventData) -> str:
    return repr(event.name) if event.name else event.type


def _plus(at: datetime, run: _Run) -> str:
    return "+" + _span(at - run.setting.start) if at > run.setting.start else "the entry"


_UNITS: Final = (("day", 86_400), ("hour", 3600), ("minute", 60), ("second", 1))


def _span(span: timedelta) -> str:
    """A span for people: ``2 days 3 hours`` (the two largest units)."""
    left = int(span.total_seconds())
    parts: list[str] = []
    for unit, seconds in _UNITS:
        count, left = divmod(left, seconds)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts[:2]) or "no time"


def masked_request(request: Mapping[str, Any]) -> dict[str, Any]:
    """A webhook request as a test run shows it: the values of headers, URL query parameters
    and body keys named like credentials (``authorization``, ``token``, ``secret``...) and a
    password in the URL replaced by :data:`MASKED`. The ``Idempotency-Key`` stays.

    >>> masked_request({"url": "https://u:pw@h.example/x?token=t&a=1",
    ...                 "headers": {"X-Api-Key": "k"}, "body": {"secret": 1}})["url"]
    'https://u:%5Bmasked%5D@h.example/x?token=%5Bmasked%5D&a=1'
    """
    headers = {
        name: MASKED if CREDENTIAL.search(name) and name != "Idempotency-Key" else value
        for name, value in request.get("headers", {}).items()
    }
    return {
        **request,
        "url": _masked_url(str(request.get("url", ""))),
        "headers": headers,
        "body": _masked_body(request.get("body")),
    }


def _masked_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":%5Bmasked%5D@", 1)
    query = [
        (name, MASKED if CREDENTIAL.search(name) else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))


def _masked_body(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: MASKED if CREDENTIAL.search(str(key)) else _masked_body(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_masked_body(item) for item in value]
    return value
