"""The read models of journeys, as the management API and the CLI show them (``TypedDict``s,
like every read model; times as :func:`~headwater.spec.format_timestamp` strings; documents
with exact decimals, written back as JSON numbers)."""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict

from headwater.audiences import Exact

__all__ = [
    "InstanceView",
    "JourneyDetailView",
    "JourneyFileView",
    "JourneyStatsView",
    "JourneyVersionDetailView",
    "JourneyVersionView",
    "JourneyView",
    "NodeStatsView",
    "NodeTypeView",
    "ProblemView",
    "SkippedView",
    "StartedView",
    "StepView",
    "TrialEffectView",
    "TrialEventView",
    "TrialRunView",
    "TrialStepView",
]

State = Literal["draft", "live", "paused", "archived"]


class ProblemView(TypedDict):
    """What is wrong, and where in the document (a dotted path like ``nodes.wait.next``)."""

    path: str
    message: str


class JourneyView(TypedDict):
    """A journey: ``state``, the ``version`` it runs (null until first published) and its
    draft's ``revision`` (give it back when saving the draft)."""

    key: str
    name: str
    description: str
    state: State
    version: int | None
    revision: int
    created_at: str
    updated_at: str


class JourneyDetailView(JourneyView):
    """A journey with its draft and what stops the draft from being published (none: it
    may be)."""

    draft: Exact
    problems: list[ProblemView]
    changed: bool
    """Whether the draft differs from the version it runs (or has never been published)."""


class JourneyVersionView(TypedDict):
    version: int
    note: str
    published_at: str


class JourneyVersionDetailView(JourneyVersionView):
    document: Exact


class JourneyFileView(TypedDict):
    """A journey as code: what export gives and import takes (JSON or YAML)."""

    key: str
    name: str
    description: str
    document: Exact


class NodeTypeView(TypedDict):
    """A node type of the palette: its config as a JSON Schema (the canvas renders a form from
    it) and whether it acts outside the journey (then it has an error port)."""

    type: str
    title: str
    family: Literal["flow", "wait", "action"]
    config_schema: dict[str, Any]


class NodeStatsView(TypedDict):
    """One node: how many arrived (``entered``), are there now (``here``), left by each port,
    left by ``error``, and the time spent there (seconds, p50 and p95; null before anyone
    left)."""

    entered: int
    here: int
    ports: dict[str, int]
    errors: int
    seconds_p50: float | None
    seconds_p95: float | None


class JourneyStatsView(TypedDict):
    """A journey's figures, for one version or all (``version`` null)."""

    version: int | None
    entered: int
    in_progress: int
    completed: int
    failed: int
    converted: int
    exited: dict[str, int]
    """By reason: ``exit_event``, ``archived``, ``node_removed``..."""
    nodes: dict[str, NodeStatsView]


class SkippedView(TypedDict):
    profile_id: str
    reason: str


class StartedView(TypedDict):
    """A manual start: how many entered, and who did not, with why."""

    entered: int
    skipped: list[SkippedView]


class StepView(TypedDict):
    step: int
    node: str
    label: str | None
    """The node's label in the instance's version (null: none, or no longer a node there)."""
    type: str | None
    """The node's type in the instance's version (null: no longer a node there)."""
    port: str | None
    arrived_at: str
    left_at: str
    detail: str | None


class InstanceView(TypedDict):
    """A profile's way through a journey, step by step."""

    id: int
    journey: str
    version: int
    state: Literal["active", "waiting", "completed", "exited", "failed"]
    node: str
    node_label: str | None
    entered_at: str
    waiting_until: str | None
    ended_at: str | None
    end_reason: str | None
    error: str | None
    converted_at: str | None
    steps: list[StepView]


class TrialEffectView(TypedDict):
    """What an action node would do, done by nothing: ``send`` (``payload``: the track event
    queued for ``destination``), ``webhook`` (the request, its secrets masked), ``traits`` (the
    identify call that sets them), ``list`` (the list audience and whether added or removed)."""

    kind: Literal["send", "webhook", "traits", "list"]
    summary: str
    destination: int | None
    payload: Exact


class TrialStepView(TypedDict):
    """One node of a test run: the port taken (null for go-to and exit), why, and when on
    the run's virtual clock (``elapsed``: seconds since the entry)."""

    node: str
    label: str
    type: str
    title: str
    port: str | None
    why: str
    at: str
    elapsed: int
    effect: TrialEffectView | None


class TrialEventView(TypedDict):
    """One later event of the sample's script, and what it did to the run."""

    event: str
    at: str
    elapsed: int
    outcome: str


class TrialRunView(TypedDict):
    """A test run: whether the sample enters (``entry`` says why or why not), the path it
    takes step by step on a virtual clock, and how it ends (``state``: ``completed``,
    ``failed``, ``exited``, ``not_entered``, or ``stopped`` at the step limit). Nothing was
    sent, queued or stored. ``problems`` are what stops the document from being published."""

    entered: bool
    entry: str
    profile_id: str | None
    started_at: str
    steps: list[TrialStepView]
    state: Literal["completed", "failed", "exited", "not_entered", "stopped"]
    outcome: str
    ended_at: str | None
    converted_at: str | None
    events: list[TrialEventView]
    problems: list[ProblemView]
