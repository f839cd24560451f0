"""Metrics are owned by the application: each :class:`Metrics` has its own registry, a part's
group is created once per registry, and no module creates a metric at import."""

from __future__ import annotations

import ast
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter

from headwater.supervisor import Health, TaskMetrics
from headwater.telemetry.metrics import Metrics

SOURCE = Path(__file__).parent.parent / "src" / "headwater"
_METRIC_TYPES = {"Counter", "Gauge", "Histogram", "Summary", "Info", "Enum"}


class _Requests:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.total = Counter("test_requests_total", "Requests", registry=registry)


def test_a_group_is_created_once_per_metrics_and_two_apps_count_apart() -> None:
    first, second = Metrics(), Metrics()
    assert first.of(_Requests) is first.of(_Requests)
    first.of(_Requests).total.inc(3)
    second.of(_Requests).total.inc()
    assert first.sample("test_requests_total") == 3
    assert second.sample("test_requests_total") == 1


def test_a_health_exports_through_the_metrics_it_is_given() -> None:
    metrics = Metrics()
    health = Health("exported-test", metrics.of(TaskMetrics))
    health.ok()
    assert metrics.sample("headwater_task_up", {"task": "exported-test"}) == 1
    Health("unexported-test").ok()  # a task run alone exports nothing
    assert metrics.sample("headwater_task_up", {"task": "unexported-test"}) is None


def test_the_exposition_holds_the_process_metrics_beside_the_apps() -> None:
    metrics = Metrics()
    metrics.of(TaskMetrics)
    text = metrics.exposition().decode()
    assert "# TYPE headwater_task_up gauge" in text
    assert "python_info" in text
    assert "python_gc_objects_collected_total" in text


def test_no_metric_is_created_outside_a_registry_handed_in() -> None:
    """Every ``Counter(...)``/``Gauge(...)``... in the source passes ``registry=``: a metric
    on prometheus_client's global registry would be shared by every app of the process and
    served by none."""
    unowned = []
    recording = [p for p in sorted(SOURCE.rglob("*.py")) if "prometheus_client" in p.read_text()]
    assert len(recording) > 5
    for path in recording:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            owned = any(keyword.arg == "registry" for keyword in node.keywords)
            if node.func.id in _METRIC_TYPES and node.args and not owned:
                unowned.append(f"{path.relative_to(SOURCE)}:{node.lineno}")
    assert unowned == []
