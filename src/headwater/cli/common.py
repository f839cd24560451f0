"""What the local commands (``serve``, ``worker``, ``migrate``) share: settings and a database
for one command. Every other command goes through the management API (``cli.remote``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from headwater.settings import Settings

if TYPE_CHECKING:
    from headwater.storage import Database

__all__ = ["DataDir", "settings_for", "with_database"]

T = TypeVar("T")

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="data directory (HEADWATER_DATA_DIR)")
]


def settings_for(data_dir: Path | None = None, **overrides: Any) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)


def with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` on the settings' database (embedded PostgreSQL started if needed and
    released after); no first-start setup: that is ``headwater serve``'s."""

    from headwater.storage import open_database

    async def run() -> T:
        database = await open_database(settings, pool_size=2)
        try:
            return await work(database)
        finally:
            await database.close()

    return asyncio.run(run())
