"""The supervisor of background tasks: a task that raises is restarted (and says so), its
state is reported and exported as metrics, and stop ends every task."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from headwater.supervisor import Health, Supervisor, first_set
from headwater.telemetry.metrics import Metrics


def _sample(supervisor: Supervisor, name: str, task: str) -> float | None:
    return supervisor.metrics.sample(name, {"task": task})


async def _until(probe: Callable[[], bool], within: float = 10.0) -> None:
    for _ in range(int(within / 0.01)):
        if probe():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {probe}")


class Flaky:
    """Raises on its first ``crashes`` runs, then works (reporting ok) until stopped."""

    def __init__(self, crashes: int) -> None:
        self.crashes = crashes
        self.runs = 0

    async def run(self, stop: asyncio.Event, health: Health) -> None:
        self.runs += 1
        if self.runs <= self.crashes:
            raise ConnectionRefusedError("the database is away")
        while not stop.is_set():
            health.ok()
            await asyncio.sleep(0.01)


async def test_a_task_that_raises_is_logged_restarted_and_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky = Flaky(crashes=2)
    supervisor = Supervisor(metrics=Metrics(), restart_base=0.01, restart_cap=0.05)
    supervisor.add("flaky-test", flaky.run)
    with caplog.at_level(logging.ERROR, logger="headwater.supervisor"):
        supervisor.start()
        await _until(lambda: supervisor.up)
    assert flaky.runs == 3
    report = supervisor.report()["flaky-test"]
    assert (report["state"], report["restarts"], report["error"]) == (
        "up",
        2,
        "ConnectionRefusedError",
    )
    assert _sample(supervisor, "headwater_task_up", "flaky-test") == 1
    assert _sample(supervisor, "headwater_task_restarts_total", "flaky-test") == 2
    crashes = [r for r in caplog.records if r.name == "headwater.supervisor"]
    assert len(crashes) == 2
    assert all(isinstance(r.exc_info[1], ConnectionRefusedError) for r in crashes if r.exc_info)
    await supervisor.stop()
    assert supervisor.report()["flaky-test"]["state"] == "stopped"
    assert _sample(supervisor, "headwater_task_up", "flaky-test") == 0


async def test_a_task_that_returns_before_stop_is_restarted() -> None:
    runs = 0

    async def quits(stop: asyncio.Event, health: Health) -> None:
        nonlocal runs
        runs += 1
        health.ok()

    supervisor = Supervisor(metrics=Metrics(), restart_base=0.01, restart_cap=0.01)
    supervisor.add("quitter-test", quits)
    supervisor.start()
    await _until(lambda: runs >= 3)
    assert supervisor.report()["quitter-test"]["error"] == "RuntimeError"
    await supervisor.stop()
    assert supervisor.report()["quitter-test"]["state"] == "stopped"


async def test_a_failing_round_makes_the_task_not_up_until_one_works() -> None:
    """A task that retries by itself (the consumer, during an outage) reports each failed
    round: it is ``failing``, not up, without being restarted; ``ok`` brings it back."""
    failing = asyncio.Event()
    recovered = asyncio.Event()

    async def retries(stop: asyncio.Event, health: Health) -> None:
        health.ok()
        await failing.wait()
        health.failed(OSError("connection refused"))
        await recovered.wait()
        health.ok()
        await stop.wait()

    supervisor = Supervisor(metrics=Metrics())
    supervisor.add("retrier-test", retries)
    supervisor.add("steady-test", Flaky(crashes=0).run)
    supervisor.start()
    await _until(lambda: supervisor.up)
    failing.set()
    await _until(lambda: not supervisor.up)
    report = supervisor.report()
    assert report["retrier-test"]["state"] == "failing"
    assert report["retrier-test"]["error"] == "OSError"
    assert report["retrier-test"]["restarts"] == 0
    assert report["steady-test"]["state"] == "up"
    assert _sample(supervisor, "headwater_task_up", "retrier-test") == 0
    assert _sample(supervisor, "headwater_task_failures_total", "retrier-test") == 1
    recovered.set()
    await _until(lambda: supervisor.up)
    assert _sample(supervisor, "headwater_task_up", "retrier-test") == 1
    await supervisor.stop()


async def test_stop_ends_a_task_waiting_out_its_back_off() -> None:
    supervisor = Supervisor(metrics=Metrics(), restart_base=3600, restart_cap=3600)
    supervisor.add("crasher-test", Flaky(crashes=1).run)
    supervisor.start()
    await _until(lambda: supervisor.report()["crasher-test"]["state"] == "restarting")
    async with asyncio.timeout(5):
        await supervisor.stop()
    assert supervisor.report()["crasher-test"]["state"] == "stopped"


def test_a_name_is_supervised_once() -> None:
    supervisor = Supervisor(metrics=Metrics())
    supervisor.add("twice-test", Flaky(crashes=0).run)
    with pytest.raises(ValueError, match="twice-test"):
        supervisor.add("twice-test", Flaky(crashes=0).run)


async def test_stop_cancels_a_task_still_busy_after_the_grace_period(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A task deep in a long piece of work (a processor batch) does not hold shutdown up."""
    ended = asyncio.Event()

    async def busy(stop: asyncio.Event, health: Health) -> None:
        health.ok()
        try:
            await asyncio.sleep(3600)  # never looks at stop
        finally:
            ended.set()

    supervisor = Supervisor(metrics=Metrics(), stop_grace=0.05)
    supervisor.add("busy-test", busy)
    supervisor.start()
    await _until(lambda: supervisor.up)
    with caplog.at_level(logging.WARNING, logger="headwater.supervisor"):
        await supervisor.stop()
    assert ended.is_set()
    assert supervisor.report()["busy-test"]["state"] == "stopped"
    assert any("busy-test" in r.getMessage() for r in caplog.records)


async def test_first_set_answers_which_came_first_the_event_or_the_time() -> None:
    stop, wake = asyncio.Event(), asyncio.Event()
    assert await first_set(stop, wake, seconds=0.05) is False
    asyncio.get_running_loop().call_later(0.05, wake.set)
    assert await first_set(stop, wake, seconds=10) is True
    stop.set()
    assert await first_set(stop, asyncio.Event()) is True  # no limit: returns once one is set
