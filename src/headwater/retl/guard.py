"""Which databases a model may read: never Headwater's own.

A model's URL is written by anyone with ``sources:write`` in one workspace, and the process
that reads it holds every workspace's data. Without a guard, such a URL could name the
PostgreSQL server Headwater itself uses (the embedded one trusts every local connection on its
Unix socket) or, through SQLite, any file the process can read. So, unless the operator allows
local databases (``HEADWATER_RETL_ALLOW_LOCAL_DATABASES``, for a laptop or a test), a model's
URL is refused when it:

- names a file database (``sqlite``, ``duckdb``);
- connects through a Unix socket (no host, a host that is a path, or a ``host``,
  ``unix_socket`` or ``unix_sock`` query parameter): the embedded server listens on one only;
- reaches the address and port of Headwater's own database server, resolved, with every
  address of this machine (loopback or an interface's) counted as one.

>>> await refuse_own_database("postgresql://reader:pw@db.example/shop", own=engine.url,
...                           allow_local=False)
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from sqlalchemy.engine import URL

from headwater.retl.source import SourceError, parse_url

__all__ = ["refuse_own_database"]

_FILE_DIALECTS = frozenset({"sqlite", "duckdb"})
_SOCKET_PARAMS = frozenset({"host", "unix_socket", "unix_sock"})
_POSTGRES_PORT = 5432
_ALLOW = "HEADWATER_RETL_ALLOW_LOCAL_DATABASES"


async def refuse_own_database(url: str, *, own: URL, allow_local: bool) -> None:
    """Raise :class:`SourceError` (a plain reason, the URL not repeated) when ``url`` names a
    database a model may not read; ``own`` is Headwater's own database URL."""
    if allow_local:
        return
    model = parse_url(url)
    if model.get_backend_name() in _FILE_DIALECTS:
        raise SourceError(f"models cannot read file databases here (the operator may set {_ALLOW})")
    if not model.host or model.host.startswith("/") or _SOCKET_PARAMS & set(model.query):
        raise SourceError(
            "a model's database is named by a network host and port, not a local socket"
        )
    if await _same_server(model, own):
        raise SourceError("a model cannot read Headwater's own database")


async def _same_server(model: URL, own: URL) -> bool:
    if not model.host or not own.host or own.host.startswith("/") or "host" in own.query:
        return False  # Headwater's own server is on a socket, refused above
    model_port = model.port or (_POSTGRES_PORT if model.get_backend_name() == "postgresql" else 0)
    if model_port != (own.port or _POSTGRES_PORT):
        return False
    model_addresses = await _addresses(model.host, model_port)
    own_addresses = await _addresses(own.host, model_port)
    if model_addresses & own_addresses:
        return True
    return any(map(_this_machine, model_addresses)) and any(map(_this_machine, own_addresses))


async def _addresses(host: str, port: int) -> set[str]:
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return set()  # unresolvable: the connection fails on its own, with its reason
    return {str(address[4][0]) for address in found}


def _this_machine(address: str) -> bool:
    """Whether ``address`` is one of this machine's: loopback, unspecified, or bindable here."""
    parsed = ipaddress.ip_address(address.split("%")[0])
    if parsed.is_loopback or parsed.is_unspecified:
        return True
    family = socket.AF_INET6 if parsed.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError:
            return False
    return True
