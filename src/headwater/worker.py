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
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from datetime import timedelta

import uvloop
from prometheus_client import start_http_server
from rich.console import Console

from headwater.audiences import Relay, Scheduler
from headwater.destinations import DeliveryWorkers, enqueue_event
from headwater.log import PostgresLog
from headwater.logs import configure
from headwater.pipeline import Processor
from headwater.runtime import tune_garbage_collector
from headwater.settings import Settings
from headwater.storage import migrate, open_database

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
    # The processor's connections, and a few for the scheduler, the relay, delivery and their
    # listeners: a pool too small for them opens and closes a connection per checkout.
    database = await open_database(settings, pool_size=settings.processor_connections() + 4)
    metrics = None
    if settings.worker_metrics_port is not None:
        metrics, _ = start_http_server(settings.worker_metrics_port, addr=settings.host)
        console.print(f"metrics on http://{settings.host}:{settings.worker_metrics_port}/metrics")
    try:
        await migrate(database.engine)
        log = PostgresLog(database.engine, settings.log_partitions)
        processor = Processor(engine=database.engine, log=log, settings=settings)
        tasks = []
        if settings.run_processor:
            console.print(f"processor {processor.consumer.owner} started")
            tasks.append(processor.run(stop))
            interval = timedelta(seconds=settings.audience_recompute_seconds)
            tasks.append(Scheduler(database.engine, interval=interval).run(stop))
            tasks.append(Relay(database.engine, enqueue=enqueue_event).run(stop))
        if settings.run_delivery:
            console.print("delivery workers started")
            tasks.append(DeliveryWorkers(engine=database.engine, settings=settings).run(stop))
        tune_garbage_collector()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks)
        await log.close()
    finally:
        if metrics is not None:
            metrics.shutdown()
        await database.close()
    console.print("worker stopped")
