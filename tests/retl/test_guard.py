"""A model may not read Headwater's own database (nor files, nor local sockets) unless the
operator allows local databases: the guard alone, then through the API of a real server."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from headwater.retl.guard import refuse_own_database
from headwater.retl.source import SourceError
from tests.retl.conftest import Customer, customer  # noqa: F401 (a fixture)
from tests.retl.test_api import _call
from tests.server import start_server

OWN = make_url("postgresql+asyncpg://headwater:pw@127.0.0.1:5999/headwater")


def _an_address_of_this_machine() -> str | None:
    """An address of one of this machine's interfaces other than loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


async def refused(url: str) -> bool:
    try:
        await refuse_own_database(url, own=OWN, allow_local=False)
    except SourceError:
        return True
    return False


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////etc/passwd",
        "sqlite+aiosqlite:///data.db",
        "postgresql://postgres@/headwater?host=/var/run/headwater",
        "postgresql://postgres@/headwater",
        "postgresql:///headwater",
        "mysql+pymysql://root@localhost/db?unix_socket=/run/mysqld.sock",
        "postgresql://reader:pw@127.0.0.1:5999/other",
        "postgresql://reader:pw@localhost:5999/headwater",
        "postgresql://reader:pw@127.0.0.2:5999/headwater",
        "postgresql://reader:pw@[::1]:5999/headwater",
        "postgresql://reader:pw@0.0.0.0:5999/headwater",
    ],
)
async def test_files_sockets_and_headwaters_own_server_are_refused(url: str) -> None:
    assert await refused(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://reader:pw@127.0.0.1:6000/shop",
        "postgresql://reader:pw@db.invalid:5999/shop",
        "postgresql://reader:pw@192.0.2.10/shop",
        "mysql+pymysql://reader:pw@127.0.0.1:3306/shop",
    ],
)
async def test_other_servers_are_allowed(url: str) -> None:
    assert not await refused(url)


async def test_this_machines_own_address_counts_as_local() -> None:
    address = _an_address_of_this_machine()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    assert await refused(f"postgresql://reader:pw@{address}:5999/headwater")
    assert not await refused(f"postgresql://reader:pw@{address}:6000/headwater")


async def test_the_default_port_is_postgresqls() -> None:
    own = make_url("postgresql+asyncpg://headwater:pw@127.0.0.1/headwater")
    with pytest.raises(SourceError):
        await refuse_own_database("postgres://r:pw@localhost/x", own=own, allow_local=False)
    await refuse_own_database("postgres://r:pw@localhost/x", own=own, allow_local=True)


async def test_an_embedded_headwater_refuses_a_model_on_its_server(
    database_url: str,
    tmp_path: Path,
    customer: Customer,  # noqa: F811 (a fixture)
) -> None:
    """The customer's database is on the test PostgreSQL server, as Headwater's own: a server
    started with the default settings refuses it at creation and preview, and stores nothing."""
    server = start_server(database_url, tmp_path)
    try:
        base = "default/reverse-etl/models"
        body = {"connection": customer.url, "query": "SELECT 1 AS id", "primary_key": "id"}
        preview = _call(server, "POST", f"{base}/preview", 400, json=body)
        assert preview["code"] == "invalid_connection"
        created = _call(server, "POST", base, 400, json={"name": "m", **body})
        assert created["code"] == "invalid_connection"
        assert customer.url not in str(created)
        assert _call(server, "GET", base, 200) == []
    finally:
        server.stop()
