"""``headwater worker``: the processor and the delivery workers in their own process, for
scaling out.

Run any number of workers beside ``headwater serve`` (started with
``HEADWATER_RUN_PROCESSOR=false`` and ``HEADWATER_RUN_DELIVERY=false`` if it should only
collect); they share the log's partitions through leases, and take over a crashed worker's
partitions when its leases expire. The audience scheduler runs with the processor (batch
recomputes, claimed one computation at a time with ``SKIP LOCKED``). Delivery workers share
each destination's queue through ``FOR UPDATE SKIP LOCKED`` claims; a crashed worker's
claimed rows come due again after their lease. ``HEADWATER_RUN_PROCESSOR`` and
``HEADWATER_RUN_DELIVERY`` turn either half off here too.

The worker is a ``worker`` :class:`~headwater.runtime.Runtime`: the composition root
``headwater serve`` uses, without collecting. Its background tasks are the ones ``headwater
serve`` runs, under the same supervisor: each is restarted if it ends, and its state is in the
runtime's metrics (``headwater_task_up``, ``headwater_task_restarts_total``). With
``HEADWATER_WORKER_METRICS_PORT``, that port answers ``/metrics`` and ``/ready`` (the runtime's
readiness report, as ``headwater serve``'s ``/ready``; see :mod:`headwater.telemetry.endpoint`).
"""

from __future__ import annotations

import asyncio
import signal

import uvloop
from rich.console import Console

from headwater.runtime import Role, Runtime
from headwater.settings import Settings
from headwater.telemetry.endpoint import start_endpoint
from headwater.telemetry.logging import configure

__all__ = ["work"]


def work(settings: Settings, *, console: Console) -> None:
    """Process the event log until SIGINT or SIGTERM."""
    configure(level=settings.log_level, form=settings.log_format)
    # uvloop, as ``headwater serve`` runs under uvicorn: the processor's many small database
    # round trips cost less on it.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_work(settings, console))


async def _work(settings: Settings, console: Console) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runtime = await Runtime.start(settings, role=Role.WORKER)
    try:
        endpoint = None
        port = settings.worker_metrics_port
        if port is not None:
            endpoint = await start_endpoint(
                settings.host, port, metrics=runtime.metrics, ready=runtime.ready
            )
            console.print(f"metrics on http://{settings.host}:{port}/metrics  (and /ready)")
        try:
            owner = runtime.processor.consumer.owner
            console.print(f"worker started: {', '.join(runtime.tasks.health)} ({owner})")
            await stop.wait()
        finally:
            if endpoint is not None:
                endpoint.close()
    finally:
        await runtime.stop()
    console.print("worker stopped")
