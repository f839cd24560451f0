"""PostgreSQL stops for 15 s under load and starts again; Headwater is not restarted.

The test owns its PostgreSQL (an embedded server in its own directory) so that it can stop
it. Clients post batches all along; only what was answered 200 counts as acknowledged. While
the database is away, ``/ready`` answers 503 and names the processor as not up, and the
management and Profile APIs answer 503 with a JSON error that names no connection detail.
Once it is back, without a restart: ``/ready`` answers 200 again, and every acknowledged
event is in the log once, has a profile, and reached the webhook destination exactly once.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from headwater.storage import create_engine
from headwater.storage.embedded import EmbeddedPostgres
from tests.destinations.conftest import Space, track
from tests.destinations.sink import Recorded, Reply, Sink
from tests.server import ADMIN_TOKEN, RunningServer, start_server

pytestmark = pytest.mark.e2e

OUTAGE_SECONDS = 15
BATCH = 20
# Delivery retries and rereads quickly; leases keep their defaults (30 s past a send's
# timeout), longer than the outage.
QUICK = {
    "HEADWATER_DELIVERY_BACKOFF_BASE_SECONDS": "0.05",
    "HEADWATER_DELIVERY_BACKOFF_MAX_SECONDS": "0.4",
    "HEADWATER_DELIVERY_POLL_SECONDS": "0.2",
    "HEADWATER_DESTINATIONS_REFRESH_SECONDS": "0.2",
    "HEADWATER_TASK_RESTART_MAX_SECONDS": "2",
}


@pytest.fixture
async def own_postgres() -> AsyncIterator[tuple[EmbeddedPostgres, str]]:
    # Not under pytest's tmp_path: the server runs as its own user, who cannot enter it.
    data_dir = Path(tempfile.mkdtemp(prefix="headwater-outage-"))
    postgres = EmbeddedPostgres(data_dir, database="headwater")
    url = await postgres.start()
    try:
        yield postgres, url
    finally:
        await postgres.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def outage_server(
    own_postgres: tuple[EmbeddedPostgres, str], tmp_path: Path
) -> Iterator[RunningServer]:
    (tmp_path / "hw").mkdir()
    running = start_server(own_postgres[1], tmp_path / "hw", QUICK)
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Load:
    """A client posting batches until ``stop``, keeping which events were acknowledged."""

    space: Space
    sent: set[str] = field(default_factory=set)
    acked: set[str] = field(default_factory=set)
    statuses: Counter[str] = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        numbers = itertools.count()
        url = f"{self.space.server.url}/v1/batch"
        with httpx.Client(auth=(self.space.write_key, ""), timeout=10) as client:
            while not self.stop.is_set():
                batch = [track(next(numbers), prefix="out") for _ in range(BATCH)]
                ids = {event["messageId"] for event in batch}
                self.sent |= ids
                try:
                    status = str(client.post(url, json={"batch": batch}).status_code)
                except httpx.TransportError as error:
                    status = type(error).__name__
                self.statuses[status] += 1
                if status == "200":
                    self.acked |= ids
                time.sleep(0.05)


def _eventually(probe: Callable[[], bool], what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not probe():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _get_routes(server: RunningServer, space: Space, destination_id: int) -> list[str]:
    """Every GET route of the management and Profile APIs (from the OpenAPI document), its
    path parameters filled in (the live feed, a stream, left out)."""
    values = {
        "workspace": space.slug,
        "space": space.slug,
        "source_id": str(space.source_id),
        "destination_id": str(destination_id),
        "collection": "users",
        "lookup": "user_id:user-1",
        "message_id": "out-1",
        "profile_id": "p-1",
        "slug": "plan",
        "key": "key",
        "version": "1",
        "export_id": "1",
        "rule_id": "1",
        "regulate_id": "r",
        "model_id": "1",
        "sync_id": "1",
        "run_id": "1",
        "import_id": "1",
    }
    document = httpx.get(f"{server.url}/api/openapi.json", timeout=30).json()
    return [
        path.format(**values)
        for path, operations in document["paths"].items()
        if "get" in operations
        and path.startswith(("/api/v1/", "/v1/spaces/"))
        and not path.endswith("/live")
    ]


def _answers(server: RunningServer, paths: list[str]) -> dict[str, httpx.Response]:
    with server.admin() as admin:
        return {
            path: admin.get(
                path, auth=(ADMIN_TOKEN, "") if path.startswith("/v1/spaces/") else None
            )
            for path in paths
        }


async def _rows(url: str, sql: str) -> list[Any]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return list(await connection.execute(text(sql)))
    finally:
        await engine.dispose()


async def test_a_database_outage_under_load_loses_and_duplicates_nothing(
    own_postgres: tuple[EmbeddedPostgres, str], outage_server: RunningServer
) -> None:
    postgres, database_url = own_postgres
    space = Space.create(outage_server)
    delivered: list[str] = []
    arrivals: dict[str, list[float]] = {}
    lock = threading.Lock()

    def receive(request: Recorded) -> Reply:
        with lock:
            delivered.append(request.json()["messageId"])
            arrivals.setdefault(delivered[-1], []).append(request.at)
        return Reply(200)

    with Sink(receive) as sink:
        destination_id = space.destination(sink.url, delivery={"concurrency": 4})
        routes = _get_routes(outage_server, space, destination_id)
        load = Load(space)
        loader = threading.Thread(target=load.run, daemon=True)
        loader.start()
        try:
            await asyncio.to_thread(_eventually, lambda: len(delivered) >= 100, "deliveries")
            outage_started = time.monotonic()
            await postgres.stop()
            outage_ended = time.monotonic() + OUTAGE_SECONDS
            readiness: list[tuple[int, dict[str, Any]]] = []
            answers: dict[str, httpx.Response] = {}
            while time.monotonic() < outage_ended:
                ready = await asyncio.to_thread(httpx.get, f"{outage_server.url}/ready", timeout=30)
                readiness.append((ready.status_code, ready.json()))
                if not answers and time.monotonic() > outage_ended - OUTAGE_SECONDS / 2:
                    answers = await asyncio.to_thread(_answers, outage_server, routes)
                await asyncio.sleep(0.5)
            await postgres.start()
            await asyncio.to_thread(
                _eventually,
                lambda: httpx.get(f"{outage_server.url}/ready", timeout=30).status_code == 200,
                "/ready to answer 200 again",
            )
            await asyncio.sleep(2)  # more events after the outage
        finally:
            load.stop.set()
            await asyncio.to_thread(loader.join, 30)

        assert load.statuses["503"] > 0, load.statuses  # the outage came under load
        processor_down = [
            body
            for status, body in readiness
            if status == 503 and body["tasks"]["processor"]["state"] != "up"
        ]
        assert processor_down, readiness
        assert processor_down[-1]["database"] == "down"
        # Every route that needs the database says so: a 503 with the JSON error body.
        assert len(answers) == len(routes) > 40
        statuses = {path: answer.status_code for path, answer in answers.items()}
        assert all(status == 503 or status < 500 for status in statuses.values()), statuses
        assert sum(status == 503 for status in statuses.values()) > 40, statuses
        for answer in answers.values():
            assert str(postgres.pgdata) not in answer.text
            if answer.status_code == 503:
                body = answer.json()
                assert (body["success"], body["code"]) == (False, "unavailable"), body
                assert "postgres" not in answer.text.lower()
        ready = await asyncio.to_thread(httpx.get, f"{outage_server.url}/ready", timeout=30)
        tasks = ready.json()["tasks"]
        assert {task["state"] for task in tasks.values()} == {"up"}, tasks

        acked = load.acked
        await asyncio.to_thread(
            _eventually,
            lambda: acked <= set(delivered),
            f"every acknowledged event delivered ({len(acked)} acknowledged)",
            within=120,
        )
        await asyncio.sleep(2)  # anything sent twice would arrive meanwhile
        with lock:
            copies = Counter(delivered)
    assert not sink.errors
    twice = {m: [t - outage_started for t in arrivals[m]] for m, n in copies.items() if n > 1}
    assert twice == {}, f"delivered twice (seconds from the outage): {twice}"
    assert set(copies) <= load.sent

    logged = Counter(
        dict(await _rows(database_url, "SELECT message_id, count(*) FROM events GROUP BY 1"))
    )
    assert acked <= set(logged)
    assert max(logged.values()) == 1
    profiled = {
        row[0]
        for row in await _rows(
            database_url,
            "SELECT e.message_id FROM profile_events e JOIN profiles p ON p.id = e.profile_id",
        )
    }
    assert acked <= profiled, f"{len(acked - profiled)} acknowledged events have no profile"
