"""A journey document: its trigger, entry and exit rules, goal, and the graph of nodes joined
from named ports to nodes. Pure: parsed, checked and walked without I/O.

A document is JSON (or YAML, for journeys as code)::

    {"version": 1,
     "trigger": {"type": "event", "event": "Signed Up"},
     "entry": {"mode": "once"},
     "exits": [{"event": "Unsubscribed"}],
     "goal": {"event": "Order Completed", "within": {"days": 14}},
     "start": "wait",
     "nodes": {
       "wait": {"type": "delay", "config": {"duration": {"days": 1}}, "next": {"out": "mail"}},
       "mail": {"type": "send", "config": {"destination": 3, "event": "Welcome"}}}}

Two levels of checking. :func:`parse_journey` accepts any *draft* whose parts are well formed
(known node types, valid configs, edges from ports the node has to nodes that exist): a draft
may be unfinished. :func:`publish_problems` lists what stops it from going live: a start that
is not a node, ports left unconnected (``error`` may be: see :mod:`.nodes`), nodes nothing
leads to, and loops (a journey only goes forward; ``goto`` jumps ahead, never back).

>>> journey = parse_journey({"version": 1, "trigger": {"type": "manual"}, "start": "a",
...     "nodes": {"a": {"type": "exit"}}})
>>> publish_problems(journey)
[]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, model_validator

from headwater.audiences import conditions
from headwater.journeys.nodes import NODE_TYPES, OPTIONAL_PORTS, Duration

__all__ = [
    "NODE_ID_PATTERN",
    "VERSION",
    "Journey",
    "JourneyDocument",
    "JourneyError",
    "Node",
    "parse_journey",
    "publish_problems",
    "relocate",
]

VERSION: Final = 1
NODE_ID_PATTERN: Final = r"^[A-Za-z0-9_-]{1,64}$"
MAX_NODES: Final = 500
"""More nodes than anyone draws on one canvas; a bound on the work each check does."""


class JourneyError(ValueError):
    """A document that cannot be used; ``problems`` are ``{"path", "message"}`` items."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{p['path']}: {p['message']}" for p in problems))
        self.problems = problems


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventTrigger(conditions.EventSpec):
    """Enter when the profile sends a matching event (only members of ``audience``, if
    given)."""

    type: Literal["event"]
    audience: Annotated[str, Field(pattern=conditions.KEY_PATTERN)] | None = None


class AudienceTrigger(_Model):
    type: Literal["audience_entered", "audience_exited"]
    audience: Annotated[str, Field(pattern=conditions.KEY_PATTERN)]


class ScheduleTrigger(_Model):
    """Every member of ``audience`` enters, every ``every`` (its entry rule applies)."""

    type: Literal["schedule"]
    audience: Annotated[str, Field(pattern=conditions.KEY_PATTERN)]
    every: Duration


class ManualTrigger(_Model):
    """Profiles enter when someone starts them (the API, the CLI or the web app)."""

    type: Literal["manual"]


Trigger = Annotated[
    EventTrigger | AudienceTrigger | ScheduleTrigger | ManualTrigger, Field(discriminator="type")
]


class Entry(_Model):
    """Who may enter again: ``once`` per profile ever, ``every_time`` the trigger fires, or
    again once ``cooldown`` has passed since the last entry. With ``instance_key`` (a property
    path of the triggering event, like ``order_id``), a profile may be in the journey several
    times at once, once per key, up to ``max_instances``. With ``consent`` (consent categories,
    as in ``context.consent.categoryPreferences``), only a profile that consented to every one
    of them enters, and an instance ends (``exited``, reason ``consent_withdrawn``) at its next
    step once the profile no longer consents to all of them."""

    mode: Literal["once", "every_time", "cooldown"] = "once"
    cooldown: Duration | None = None
    instance_key: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    max_instances: Annotated[StrictInt, Field(ge=1, le=100)] = 1
    consent: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=20)
    ] = []

    @model_validator(mode="after")
    def _fits(self) -> Entry:
        if (self.mode == "cooldown") != (self.cooldown is not None):
            raise ValueError("a cooldown goes with mode cooldown, and that mode needs one")
        if self.max_instances > 1 and self.instance_key is None:
            raise ValueError("several instances at once need an instance_key to tell them apart")
        return self


class ExitRule(conditions.EventSpec):
    """An event that ends the profile's instance wherever it is."""


class Goal(conditions.EventSpec):
    """A conversion: the event, within ``within`` of entering."""

    within: Duration


class Position(_Model):
    x: float
    y: float


class Node(_Model):
    """One node: its ``type`` (a key of the registry), its ``config``, and ``next``: for each
    connected port, the id of the node it leads to. ``label`` and ``position`` are for the
    canvas only."""

    type: str
    config: dict[str, Any] = {}
    next: dict[str, Annotated[str, Field(pattern=NODE_ID_PATTERN)]] = {}
    label: Annotated[str, Field(max_length=200)] | None = None
    position: Position | None = None


class JourneyDocument(_Model):
    version: Literal[1]
    trigger: Trigger
    entry: Entry = Entry()
    exits: Annotated[list[ExitRule], Field(max_length=20)] = []
    goal: Goal | None = None
    start: Annotated[str, Field(pattern=NODE_ID_PATTERN)]
    nodes: Annotated[
        dict[Annotated[str, Field(pattern=NODE_ID_PATTERN)], Node], Field(max_length=MAX_NODES)
    ]


@dataclass(frozen=True)
class Journey:
    """A parsed document: each node's config validated into its type's model."""

    document: JourneyDocument
    configs: dict[str, Any]

    def node(self, node_id: str) -> Node:
        return self.document.nodes[node_id]

    def ports(self, node_id: str) -> tuple[str, ...]:
        node = self.node(node_id)
        return NODE_TYPES[node.type].ports(self.configs[node_id])

    def targets(self, node_id: str) -> Iterator[str]:
        """Where the node leads, in port order, ``goto``'s jump included."""
        node = self.node(node_id)
        for port in self.ports(node_id):
            if port in node.next:
                yield node.next[port]
        if node.type == "goto":
            yield self.configs[node_id].node


def parse_journey(raw: Any) -> Journey:
    """A draft from decoded JSON, or :class:`JourneyError` with every problem found."""
    if not isinstance(raw, dict):
        raise JourneyError([{"path": "(root)", "message": "a journey is a JSON object"}])
    if raw.get("version") != VERSION:
        message = f"unsupported version {raw.get('version')!r}; this server reads {VERSION}"
        raise JourneyError([{"path": "version", "message": message}])
    try:
        document = JourneyDocument.model_validate(raw)
    except ValidationError as error:
        raise JourneyError(conditions.problems_of(error)) from None
    problems: list[dict[str, str]] = []
    configs: dict[str, Any] = {}
    for node_id, node in document.nodes.items():
        path = f"nodes.{node_id}"
        kind = NODE_TYPES.get(node.type)
        if kind is None:
            known = ", ".join(sorted(NODE_TYPES))
            problems.append({"path": f"{path}.type", "message": f"unknown type; one of {known}"})
            continue
        try:
            configs[node_id] = kind.config(node.config)
        except ValidationError as error:
            for problem in conditions.problems_of(error):
                inner = "" if problem["path"] == "(root)" else f".{problem['path']}"
                problems.append({"path": f"{path}.config{inner}", "message": problem["message"]})
            continue
        ports = kind.ports(configs[node_id])
        for port, target in node.next.items():
            if port not in ports:
                has = ", ".join(ports) or "none"
                message = f"{node.type} has no port {port!r} (its ports: {has})"
                problems.append({"path": f"{path}.next.{port}", "message": message})
            elif target not in document.nodes:
                message = f"leads to {target!r}, which is not a node"
                problems.append({"path": f"{path}.next.{port}", "message": message})
    if problems:
        raise JourneyError(problems)
    return Journey(document, configs)


def publish_problems(journey: Journey) -> list[dict[str, str]]:
    """What stops a draft from going live (none: it may be published)."""
    document = journey.document
    if document.start not in document.nodes:
        return [{"path": "start", "message": f"{document.start!r} is not a node"}]
    problems: list[dict[str, str]] = []
    for node_id, node in document.nodes.items():
        for port in journey.ports(node_id):
            if port not in node.next and port not in OPTIONAL_PORTS:
                message = f"port {port!r} leads nowhere: connect it (an Exit node ends there)"
                problems.append({"path": f"nodes.{node_id}.next", "message": message})
        if node.type == "goto" and journey.configs[node_id].node not in document.nodes:
            target = journey.configs[node_id].node
            message = f"goes to {target!r}, which is not a node"
            problems.append({"path": f"nodes.{node_id}.config.node", "message": message})
    if problems:
        return problems
    reached = _reachable(journey, document.start)
    for node_id in document.nodes:
        if node_id not in reached:
            message = "nothing leads here: connect it or remove it"
            problems.append({"path": f"nodes.{node_id}", "message": message})
    loop = _loop(journey)
    if loop:
        message = f"the journey goes back: {' -> '.join(loop)}; journeys only go forward"
        problems.append({"path": f"nodes.{loop[0]}", "message": message})
    return problems


def relocate(old: Journey, new: Journey, node_id: str) -> str | None:
    """Where an instance at ``node_id`` of ``old`` continues in ``new``: the same node if it is
    still there; otherwise, for a deleted node, its successor (following its first connected
    port, ``error`` last) until a node that is; None if the way ends (the instance exits)."""
    seen: set[str] = set()
    current: str | None = node_id
    while current is not None and current not in seen:
        if current in new.document.nodes:
            return current
        seen.add(current)
        current = _first_successor(old, current)
    return None


def _first_successor(journey: Journey, node_id: str) -> str | None:
    if node_id not in journey.document.nodes:
        return None
    node = journey.node(node_id)
    ports = sorted(journey.ports(node_id), key=lambda port: port in OPTIONAL_PORTS)
    for port in ports:
        if port in node.next:
            return node.next[port]
    if node.type == "goto":
        target: str = journey.configs[node_id].node
        return target
    return None


def _reachable(journey: Journey, start: str) -> set[str]:
    reached = {start}
    todo = [start]
    while todo:
        for target in journey.targets(todo.pop()):
            if target in journey.document.nodes and target not in reached:
                reached.add(target)
                todo.append(target)
    return reached


def _loop(journey: Journey) -> list[str]:
    """A cycle of the graph as node ids (the first node repeated at the end), or []."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    for root in journey.document.nodes:
        if root in state:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, journey.targets(root))]
        state[root] = 1
        path.append(root)
        while stack:
            node_id, targets = stack[-1]
            target = next(targets, None)
            if target is None:
                stack.pop()
                path.pop()
                state[node_id] = 2
            elif state.get(target) == 1:
                return [*path[path.index(target) :], target]
            elif target not in state and target in journey.document.nodes:
                state[target] = 1
                path.append(target)
                stack.append((target, journey.targets(target)))
    return []
