"""One supervisor for every background task of a process: none stops silently.

>>> supervisor = Supervisor(metrics=metrics, restart_cap=30.0)
>>> supervisor.add("processor", processor.run)     # run(stop, health)
>>> supervisor.start()
>>> supervisor.report()["processor"]["state"]      # what ``/ready`` shows
'starting'
>>> await supervisor.stop()

Each task is a coroutine function ``run(stop, health)`` that works until ``stop`` is set. It
tells its :class:`Health` how it fares: :meth:`Health.ok` after each round that worked,
:meth:`Health.failed` when a round failed and the task retries it by itself (the database
is away, say). A task that raises, or returns before ``stop``, is restarted after a back-off
that doubles from ``restart_base`` up to ``restart_cap`` seconds (and starts over once the
task reports ``ok`` again); its error is logged with the traceback.

States, as :meth:`Supervisor.report` and ``/ready`` give them: ``starting`` (started, no
round has worked yet), ``up``, ``failing`` (running, its last round failed), ``restarting``
(it ended; waiting out the back-off) and ``stopped``. Only ``up`` is ready. Metrics, labelled
by ``task``: ``headwater_task_up`` (1 when up), ``headwater_task_restarts_total`` and
``headwater_task_failures_total`` (rounds reported failed).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from headwater.telemetry.metrics import Metrics

__all__ = ["Health", "Run", "State", "Supervisor", "TaskMetrics", "first_set"]

_log = logging.getLogger(__name__)


class TaskMetrics:
    """The supervised tasks' metrics (a group of :class:`~headwater.telemetry.metrics.Metrics`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.up = Gauge(
            "headwater_task_up",
            "1 while the background task is up (its last round worked), else 0",
            ["task"],
            multiprocess_mode="min",
            registry=registry,
        )
        self.restarts = Counter(
            "headwater_task_restarts_total",
            "Times the background task ended unexpectedly and was restarted",
            ["task"],
            registry=registry,
        )
        self.failures = Counter(
            "headwater_task_failures_total",
            "Rounds the background task reported failed (it retries them itself)",
            ["task"],
            registry=registry,
        )


class State(enum.StrEnum):
    STARTING = "starting"
    UP = "up"
    FAILING = "failing"
    RESTARTING = "restarting"
    STOPPED = "stopped"


class Health:
    """A task's account of itself, read by its supervisor (and usable without one); exported
    through ``metrics`` when given (a supervisor gives its own)."""

    def __init__(self, task: str, metrics: TaskMetrics | None = None) -> None:
        self.task = task
        self._metrics = metrics
        self.state = State.STARTING
        self.since = datetime.now(UTC)
        self.error: str | None = None
        """The type of the last error (never its text, which may quote statements)."""
        self.restarts = 0
        if metrics is not None:
            metrics.up.labels(task).set(0)
            # Exported at 0 from the start, so that a first increase shows as one.
            metrics.restarts.labels(task)
            metrics.failures.labels(task)

    def ok(self) -> None:
        """A round worked."""
        if self.state is not State.UP:
            if self.state is State.FAILING:
                _log.warning("%s recovered", self.task)
            self._enter(State.UP)

    def failed(self, error: BaseException) -> None:
        """A round failed with ``error``; the task retries by itself."""
        if self._metrics is not None:
            self._metrics.failures.labels(self.task).inc()
        self.error = type(error).__name__
        if self.state is not State.FAILING:
            self._enter(State.FAILING)

    def crashed(self, error: BaseException) -> None:
        """The task ended with ``error`` (its supervisor restarts it)."""
        self.error = type(error).__name__
        self.restarts += 1
        if self._metrics is not None:
            self._metrics.restarts.labels(self.task).inc()
        self._enter(State.RESTARTING)

    def restarting(self) -> None:
        """The task starts again after a crash."""
        self._enter(State.STARTING)

    def stopped(self) -> None:
        self._enter(State.STOPPED)

    def _enter(self, state: State) -> None:
        self.state = state
        self.since = datetime.now(UTC)
        if self._metrics is not None:
            self._metrics.up.labels(self.task).set(1 if state is State.UP else 0)

    def report(self) -> dict[str, Any]:
        """State, since when (a UTC datetime), restarts and the last error."""
        return {
            "state": self.state.value,
            "since": self.since,
            "restarts": self.restarts,
            "error": self.error,
        }


Run = Callable[[asyncio.Event, Health], Awaitable[None]]


class Supervisor:
    """Runs named tasks until :meth:`stop`, restarting each one that ends; see the module."""

    def __init__(
        self,
        *,
        metrics: Metrics,
        restart_base: float = 0.5,
        restart_cap: float = 30.0,
        stop_grace: float = 10.0,
    ) -> None:
        """``stop_grace``: how long :meth:`stop` waits for the tasks to end by themselves."""
        self.metrics = metrics
        self._grace = stop_grace
        self._task_metrics = metrics.of(TaskMetrics)
        self._base = restart_base
        self._cap = max(restart_cap, restart_base)
        self._runs: dict[str, Run] = {}
        self.health: dict[str, Health] = {}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def add(self, name: str, run: Run) -> None:
        """Supervise ``run`` under ``name`` (unique) from :meth:`start` on."""
        if name in self._runs:
            raise ValueError(f"a task named {name!r} is supervised already")
        self._runs[name] = run

    def start(self) -> None:
        for name, run in self._runs.items():
            health = self.health[name] = Health(name, self._task_metrics)
            self._tasks.append(asyncio.create_task(self._supervise(run, health), name=name))

    async def stop(self) -> None:
        """Set every task's ``stop`` and wait for each to end; those still running after
        ``stop_grace`` seconds (a long processor batch, a slow send) are cancelled, as a
        crash would end them: their transactions roll back, and what they had not committed
        is done again after the restart (every effect is idempotent)."""
        self._stop.set()
        if self._tasks:
            _, running = await asyncio.wait(self._tasks, timeout=self._grace)
            for task in running:
                _log.warning(
                    "%s did not stop within %.0fs; cancelled", task.get_name(), self._grace
                )
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    @property
    def up(self) -> bool:
        """Whether every task is up."""
        return all(health.state is State.UP for health in self.health.values())

    def report(self) -> dict[str, dict[str, Any]]:
        """Each task's state, since when, restarts and last error type, by name."""
        return {name: health.report() for name, health in self.health.items()}

    async def _supervise(self, run: Run, health: Health) -> None:
        try:
            await self._restarting(run, health)
        finally:
            health.stopped()

    async def _restarting(self, run: Run, health: Health) -> None:
        crashes = 0
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                await run(self._stop, health)
                if self._stop.is_set():
                    break
                raise RuntimeError(f"{health.task} returned before it was stopped")
            # The top loop of every background task: log the cause and restart.
            except Exception as error:  # noqa: BLE001
                crashes = 1 if health.state is State.UP else crashes + 1
                delay = min(self._cap, self._base * 2 ** (crashes - 1))
                health.crashed(error)
                _log.error(
                    "%s failed after %.1fs (%s); restarting in %.1fs",
                    health.task,
                    time.monotonic() - started,
                    health.error,
                    delay,
                    exc_info=error,
                )
                await first_set(self._stop, seconds=delay)
            if not self._stop.is_set():
                health.restarting()


async def first_set(*events: asyncio.Event, seconds: float | None = None) -> bool:
    """Wait until any of ``events`` is set, at most ``seconds`` (None: no limit);
    False when the time ran out first. What a background task waits on between rounds: its
    stop, and whatever wakes it sooner."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        done, _ = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    return bool(done)
