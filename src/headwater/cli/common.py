"""What every command shares: settings, JSON output, a database for one command."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec
import typer
from rich.console import Console

from headwater import workspaces
from headwater.errors import ApiError
from headwater.server import announce
from headwater.settings import Settings
from headwater.storage import Database, migrate, open_database

__all__ = ["DataDir", "console", "print_json", "settings_for", "show", "with_database"]

console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="data directory (HEADWATER_DATA_DIR)")
]


def settings_for(data_dir: Path | None = None, **overrides: Any) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)


def print_json(value: Any) -> None:
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value), indent=2).decode() + "\n")


def with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        database = await open_database(settings, pool_size=2)
        try:
            await migrate(database.engine)
            created = await workspaces.bootstrap(database.engine, admin_token=settings.admin_token)
            if created is not None:
                announce(console, created)
            return await work(database)
        finally:
            await database.close()

    try:
        return asyncio.run(run())
    except ApiError as error:
        print_json(error.body())
        raise typer.Exit(1) from None


def show(data_dir: Path | None, work: Callable[[Database], Awaitable[Any]]) -> None:
    """Run ``work`` on the database of ``data_dir``'s settings and print its result as JSON."""
    print_json(with_database(settings_for(data_dir), work))
