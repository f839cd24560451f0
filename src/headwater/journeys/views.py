"""The read models of journeys, as the management API and the CLI show them (``TypedDict``s,
like every read model; times as :func:`~headwater.spec.format_timestamp` strings)."""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict

__all__ = [
    "JourneyDetailView",
    "JourneyFileView",
    "JourneyView",
    "NodeTypeView",
    "ProblemView",
    "VersionDetailView",
    "VersionView",
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

    draft: dict[str, Any]
    problems: list[ProblemView]
    changed: bool
    """Whether the draft differs from the version it runs (or has never been published)."""


class VersionView(TypedDict):
    version: int
    note: str
    published_at: str


class VersionDetailView(VersionView):
    document: dict[str, Any]


class JourneyFileView(TypedDict):
    """A journey as code: what export gives and import takes (JSON or YAML)."""

    key: str
    name: str
    description: str
    document: dict[str, Any]


class NodeTypeView(TypedDict):
    """A node type of the palette: its config as a JSON Schema (the canvas renders a form from
    it) and whether it acts outside the journey (then it has an error port)."""

    type: str
    title: str
    family: Literal["flow", "wait", "action"]
    config_schema: dict[str, Any]
