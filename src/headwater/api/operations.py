"""The answers of the operational routes (``/``, ``/health``, ``/ready``, ``/metrics``), as
the OpenAPI document describes them.

``/ready`` answers the runtime's report as it is (200 when ready, 503 otherwise); these models
document it without converting it.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from typing_extensions import TypedDict

__all__ = ["METRICS_RESPONSES", "READY_RESPONSES", "LivenessView", "ReadyView", "RootView"]


class LivenessView(TypedDict):
    status: Literal["ok"]


class TaskView(TypedDict):
    """A background task: ``state``, since when (ISO 8601), restarts and its last error."""

    state: str
    since: str
    restarts: int
    error: str | None


class ReadyView(TypedDict):
    """Whether the process can serve: the database, the collector and each background task."""

    ready: bool
    database: Literal["up", "down"]
    collector: Literal["up", "down"]
    tasks: dict[str, TaskView]


class RootView(TypedDict):
    """Where things are: the tracking API, the management API and its documentation."""

    name: str
    version: str
    tracking: str
    api: str
    docs: str


READY_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: {"model": ReadyView, "description": "Ready"},
    503: {"model": ReadyView, "description": "Not ready: the body says which part is down"},
}

METRICS_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: {
        "description": "Prometheus' text format",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}
