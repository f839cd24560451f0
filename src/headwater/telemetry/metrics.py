"""The application's Prometheus metrics: one :class:`Metrics` per application, never a global.

The composition root (:class:`headwater.runtime.Runtime`) creates one :class:`Metrics` and
hands it to every part that records (the collector, the processor, the delivery workers, the
supervisor...); ``/metrics`` and the worker's metrics port serve its registry. Two
applications in one process (tests) thus count apart.

Each part declares its metrics as a *group*: a class whose constructor takes the registry
and creates its metrics on it, next to the code that records them (their names, labels and
help texts are part of the operators' interface). :meth:`Metrics.of` creates a group once
per :class:`Metrics`, so parts that share one share its counters.

>>> class CommitMetrics:
...     def __init__(self, registry: CollectorRegistry) -> None:
...         self.seconds = Histogram("headwater_commit_seconds", "...", registry=registry)
>>> metrics = Metrics()
>>> metrics.of(CommitMetrics) is metrics.of(CommitMetrics)
True
>>> metrics.sample("headwater_commit_seconds_count")
0.0
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

__all__ = ["CONTENT_TYPE_LATEST", "STATE_KEY", "Metrics"]

STATE_KEY = "headwater.metrics"
"""Where the ASGI lifespan state holds the application's :class:`Metrics`, for the parts the
server builds itself (the connection protocol)."""

G = TypeVar("G")


class Metrics:
    """An application's metrics: its own registry, and each part's group of metrics on it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # The process's own metrics (CPU, memory, garbage collector, Python version), which
        # prometheus_client's default registry exported before.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self._groups: dict[Callable[[CollectorRegistry], Any], Any] = {}

    def of(self, group: Callable[[CollectorRegistry], G]) -> G:
        """The instance of ``group`` on this registry, created on first use."""
        found = self._groups.get(group)
        if found is None:
            found = self._groups[group] = group(self.registry)
        return cast(G, found)

    def sample(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """The value of one sample (``None`` if it was never recorded)."""
        return self.registry.get_sample_value(name, labels)

    def exposition(self) -> bytes:
        """The text ``/metrics`` answers: this registry's metrics, or, when ``serve`` runs
        several processes (``PROMETHEUS_MULTIPROC_DIR`` is set), those of every process."""
        if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
