"""The journey node types: a registry in code, never in stored documents.

A stored journey names a node's ``type`` (a key of :data:`NODE_TYPES`) and gives its
``config``; the type's config model validates that config, and :meth:`NodeType.ports` says which
named output ports the node has for that config. Nothing in a document is ever imported or run
as code (Tracardi loads a plugin by the module name stored in its flow; Headwater never does).

Ports are how the graph branches: a wait for events has one port per event plus ``timeout``, a
split one per branch plus ``else``, a random split one per cohort, an action ``out`` and
``error``. ``error`` may be left unconnected: an instance whose action failed for good then
stops in the error state with the reason, for someone to see.

>>> NODE_TYPES["wait_event"].ports(NODE_TYPES["wait_event"].config({
...     "events": [{"port": "bought", "event": "Order Completed"}], "timeout": {"days": 2}}))
('bought', 'timeout')
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from headwater.audiences import conditions, values

__all__ = [
    "CREDENTIAL",
    "NODE_TYPES",
    "OPTIONAL_PORTS",
    "PORT_PATTERN",
    "Duration",
    "NodeType",
]

PORT_PATTERN: Final = r"^[a-z][a-z0-9_]{0,39}$"
"""A port's name: lower case, digits and ``_``, as short as a label on the canvas."""

_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_MAX_DAYS: Final = 3660
"""The longest wait (ten years): longer ones mean nothing for a journey and overflow dates."""


_NAMES_DESTINATION: Final[dict[str, Any]] = {"x-headwater-names": "destination"}
_NAMES_LIST_AUDIENCE: Final[dict[str, Any]] = {"x-headwater-names": "list_audience"}
_NAMES_NODE: Final[dict[str, Any]] = {"x-headwater-names": "node"}
"""Marks in a config's JSON Schema: the field names a destination (its id) or a list audience
(its key) of the workspace, or a node of the journey (its id), so that a form offers a choice
of them rather than a blank box."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Duration(_Model):
    """A span of days, hours, minutes and seconds; more than none, at most ten years."""

    days: Annotated[StrictInt, Field(ge=0, le=_MAX_DAYS)] = 0
    hours: Annotated[StrictInt, Field(ge=0, le=24 * _MAX_DAYS)] = 0
    minutes: Annotated[StrictInt, Field(ge=0, le=24 * 60 * _MAX_DAYS)] = 0
    seconds: Annotated[StrictInt, Field(ge=0, le=24 * 3600 * _MAX_DAYS)] = 0

    @model_validator(mode="after")
    def _some(self) -> Duration:
        if not timedelta(0) < self.span() <= timedelta(days=_MAX_DAYS):
            raise ValueError(f"a duration is more than nothing and at most {_MAX_DAYS} days")
        return self

    def span(self) -> timedelta:
        return timedelta(
            days=self.days, hours=self.hours, minutes=self.minutes, seconds=self.seconds
        )


class Window(_Model):
    """Hours of the day (in the profile's time zone) when a delay may end: a delay that would
    end outside them ends at the next ``start``. ``start`` after ``end`` spans midnight."""

    start: str
    end: str

    @model_validator(mode="after")
    def _times(self) -> Window:
        for value in (self.start, self.end):
            if not _TIME_OF_DAY.match(value):
                raise ValueError(f"{value!r} is not a time of day like 09:00")
        if self.start == self.end:
            raise ValueError("a window starts and ends at different times")
        return self


class Delay(_Model):
    """Wait ``duration``, or until the time in trait ``until_trait`` (plus ``offset``, which
    may be negative through ``before``); then, with a ``window``, until it opens."""

    duration: Duration | None = None
    until_trait: Annotated[str, Field(min_length=1)] | None = None
    offset: Duration | None = None
    before: bool = False
    time_zone_trait: Annotated[str, Field(min_length=1)] = "timezone"
    window: Window | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Delay:
        if (self.duration is None) == (self.until_trait is None):
            raise ValueError("a delay has a duration or until_trait, not both")
        if self.until_trait is None and (self.offset is not None or self.before):
            raise ValueError("offset and before go with until_trait")
        return self


class Awaited(conditions.EventSpec):
    """One event a wait listens for, leaving through its own ``port``."""

    port: Annotated[str, Field(pattern=PORT_PATTERN)]


def _distinct(ports: list[str], reserved: str | None = None) -> None:
    """Each port of a node once, and none named like the node's own extra port."""
    if len(set(ports)) != len(ports):
        raise ValueError("each port has its own name")
    if reserved is not None and reserved in ports:
        raise ValueError(f"{reserved!r} is the node's own port: choose another name")


class WaitEvent(_Model):
    events: Annotated[list[Awaited], Field(min_length=1, max_length=20)]
    timeout: Duration

    @model_validator(mode="after")
    def _ports(self) -> WaitEvent:
        _distinct([event.port for event in self.events], "timeout")
        return self


class WaitCondition(_Model):
    """Wait until ``condition`` holds for the profile (checked as its data changes), or the
    timeout."""

    condition: conditions.Condition
    timeout: Duration


class Branch(_Model):
    port: Annotated[str, Field(pattern=PORT_PATTERN)]
    condition: conditions.Condition


class Split(_Model):
    """The first branch whose condition holds; ``else`` for everyone else."""

    branches: Annotated[list[Branch], Field(min_length=1, max_length=20)]

    @model_validator(mode="after")
    def _ports(self) -> Split:
        _distinct([branch.port for branch in self.branches], "else")
        return self


class Cohort(_Model):
    port: Annotated[str, Field(pattern=PORT_PATTERN)]
    weight: Annotated[StrictInt, Field(gt=0, le=10_000)]


class RandomSplit(_Model):
    """Weighted cohorts, sticky: a profile always lands in the same cohort of a node."""

    cohorts: Annotated[list[Cohort], Field(min_length=2, max_length=20)]

    @model_validator(mode="after")
    def _ports(self) -> RandomSplit:
        _distinct([cohort.port for cohort in self.cohorts])
        return self


class Send(_Model):
    """A track event to a destination through the delivery engine (its retries, dead letters
    and replay); ``properties`` may use templates like ``{{ traits.first_name }}``."""

    destination: Annotated[StrictInt, Field(gt=0, json_schema_extra=_NAMES_DESTINATION)]
    event: Annotated[str, Field(min_length=1, max_length=200)]
    properties: dict[str, Any] = {}


CREDENTIAL: Final = re.compile(r"authorization|cookie|token|secret|key|password|signature", re.I)
"""Names of headers (and, in a test run's output, of parameters and body keys) that look
like credentials."""


class Webhook(_Model):
    """A request to ``url`` with the profile and the journey's step as its JSON body (or
    ``body``). Headers here are stored as written and shown to every reader of the journey, so
    none that looks like a credential is taken: a webhook that needs one is a webhook
    destination (its secrets sealed) reached through a send node."""

    url: Annotated[str, Field(pattern=r"^https?://", max_length=2000)]
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    headers: dict[str, str] = {}
    body: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _no_credentials(self) -> Webhook:
        for name in self.headers:
            if CREDENTIAL.search(name):
                raise ValueError(
                    f"header {name!r} looks like a credential: put it in a webhook destination"
                    " (its secrets are sealed) and use a send node"
                )
        return self


class TraitUpdate(_Model):
    op: Literal["set", "set_once", "unset", "increment", "append"]
    trait: Annotated[str, Field(min_length=1, max_length=200)]
    value: Any = None

    @model_validator(mode="after")
    def _value_fits(self) -> TraitUpdate:
        if self.op == "unset" and self.value is not None:
            raise ValueError("unset takes no value")
        if self.op != "unset" and self.value is None:
            raise ValueError(f"{self.op} takes a value")
        if self.op == "increment" and not values.is_number(self.value):
            raise ValueError("increment takes a number")
        return self


class UpdateTraits(_Model):
    updates: Annotated[list[TraitUpdate], Field(min_length=1, max_length=50)]


class ListMembership(_Model):
    """Add the profile to, or remove it from, a list audience (one kept by hand and by
    journeys, not computed)."""

    action: Literal["add", "remove"]
    audience: Annotated[
        str, Field(pattern=conditions.KEY_PATTERN, json_schema_extra=_NAMES_LIST_AUDIENCE)
    ]


class GoTo(_Model):
    """Continue at another node, further on in the journey (never back: no loops)."""

    node: Annotated[str, Field(min_length=1, json_schema_extra=_NAMES_NODE)]


class Nothing(_Model):
    pass


@dataclass(frozen=True)
class NodeType:
    """A kind of node: what its config is and which ports its config gives it."""

    key: str
    """What a document's ``type`` names."""
    title: str
    family: Literal["flow", "wait", "action"]
    config_type: type[_Model]
    _ports: Callable[[Any], tuple[str, ...]]

    def config(self, raw: Any) -> Any:
        """The config validated (pydantic's ``ValidationError`` if it does not fit)."""
        return self.config_type.model_validate(raw)

    def ports(self, config: Any) -> tuple[str, ...]:
        return self._ports(config)

    @property
    def action(self) -> bool:
        """Whether it has a side effect outside the journey (once per instance and node)."""
        return self.family == "action"


def _fixed(*ports: str) -> Callable[[Any], tuple[str, ...]]:
    return lambda _config: ports


_ACTION_PORTS = _fixed("out", "error")

NODE_TYPES: Final[dict[str, NodeType]] = {
    node.key: node
    for node in (
        NodeType("delay", "Delay", "wait", Delay, _fixed("out")),
        NodeType(
            "wait_event",
            "Wait for an event",
            "wait",
            WaitEvent,
            lambda c: (*(e.port for e in c.events), "timeout"),
        ),
        NodeType("wait_condition", "Wait until", "wait", WaitCondition, _fixed("met", "timeout")),
        NodeType(
            "split", "Split", "flow", Split, lambda c: (*(b.port for b in c.branches), "else")
        ),
        NodeType(
            "random_split",
            "Random split",
            "flow",
            RandomSplit,
            lambda c: tuple(cohort.port for cohort in c.cohorts),
        ),
        NodeType("send", "Send to a destination", "action", Send, _ACTION_PORTS),
        NodeType("webhook", "Call a webhook", "action", Webhook, _ACTION_PORTS),
        NodeType("update_traits", "Update traits", "action", UpdateTraits, _ACTION_PORTS),
        NodeType(
            "list_membership",
            "Add to or remove from a list",
            "action",
            ListMembership,
            _ACTION_PORTS,
        ),
        NodeType("goto", "Go to", "flow", GoTo, _fixed()),
        NodeType("exit", "Exit", "flow", Nothing, _fixed()),
    )
}
"""Every node type by its ``type``: the only code a journey document can reach."""

OPTIONAL_PORTS: Final = frozenset({"error"})
"""Ports that may stay unconnected in a published journey (see the module's docstring)."""
