"""``headwater worker``: the processor in its own process, for scaling out.

Run any number of workers beside ``headwater serve`` (started with
``HEADWATER_RUN_PROCESSOR=false`` if it should only collect); they share the log's partitions
through leases, and take over a crashed worker's partitions when its leases expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from rich.console import Console

from headwater.log import PostgresLog
from headwater.logs import configure
from headwater.pipeline import Processor
from headwater.settings import Settings
from headwater.storage import migrate, open_database

__all__ = ["work"]


def work(settings: Settings, *, console: Console) -> None:
    """Process the event log until SIGINT or SIGTERM."""
    configure(level=settings.log_level, form=settings.log_format)
    asyncio.run(_work(settings, console))


async def _work(settings: Settings, console: Console) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    database = await open_database(settings, pool_size=4)
    try:
        await migrate(database.engine)
        log = PostgresLog(database.engine, settings.log_partitions)
        processor = Processor(engine=database.engine, log=log, settings=settings)
        console.print(f"processor {processor.consumer.owner} started")
        with contextlib.suppress(asyncio.CancelledError):
            await processor.run(stop)
        await log.close()
    finally:
        await database.close()
    console.print("processor stopped")
