"""A TCP proxy in front of the test PostgreSQL that a test can unplug: a database outage for
one engine, without stopping the server the other tests share.

    with Cable(database_url) as cable:
        engine = create_engine(cable.url)
        ...
        cable.cut()      # every connection through it drops; new ones are refused
        cable.mend()     # connections are accepted again, on the same port

The proxy runs its own event loop in a thread, so a test may block (or run its own loop)
while connections flow through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType

from sqlalchemy.engine import make_url

from tests.server import free_port

__all__ = ["Cable"]


class Cable:
    def __init__(self, database_url: str) -> None:
        self._target = make_url(database_url)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        """The database URL through the proxy."""
        through = self._target.set(host="127.0.0.1", port=self.port)
        through = through.difference_update_query(["host"])
        return through.render_as_string(hide_password=False)

    def __enter__(self) -> Cable:
        self._thread.start()
        self.mend()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def cut(self) -> None:
        """Close every connection and stop listening (new connections are refused)."""
        asyncio.run_coroutine_threadsafe(self._cut(), self._loop).result(10)

    def mend(self) -> None:
        """Listen again on the same port."""
        asyncio.run_coroutine_threadsafe(self._mend(), self._loop).result(10)

    async def _mend(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._pipe, "127.0.0.1", self.port, reuse_address=True
            )

    async def _cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        if server is not None:
            await server.wait_closed()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        socket_dir = self._target.query.get("host")
        if isinstance(socket_dir, str) and socket_dir.startswith("/"):
            port = self._target.port or 5432
            upstream = await asyncio.open_unix_connection(f"{socket_dir}/.s.PGSQL.{port}")
        else:
            upstream = await asyncio.open_connection(self._target.host, self._target.port or 5432)
        up_reader, up_writer = upstream
        self._writers |= {writer, up_writer}
        await asyncio.gather(_copy(reader, up_writer), _copy(up_reader, writer))


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    sink.transport.abort()
