"""Settings parsed from the environment, JSON logs, and embedded PostgreSQL's list of users."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path

import httpx
import pytest

from headwater.settings import Settings, available_cores, default_workers
from headwater.storage.embedded import EmbeddedPostgres
from headwater.telemetry.logging import configure
from tests.destinations.sink import Sink


def test_trusted_proxies_tolerate_spaces_and_a_trailing_comma(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HEADWATER_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1 , ")
    assert Settings().trusted_proxies == [ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32")]


@pytest.mark.parametrize(
    ("cores", "embedded", "workers"),
    [
        (1, True, 1),
        (2, True, 1),
        (3, True, 2),
        (4, True, 2),
        (8, True, 4),
        (64, True, 4),
        (1, False, 1),
        (2, False, 2),
        (3, False, 3),
        (64, False, 4),
    ],
)
def test_serve_runs_a_process_per_core_or_per_two_beside_embedded_postgres(
    cores: int, embedded: bool, workers: int
) -> None:
    assert default_workers(cores, embedded=embedded) == workers


def test_the_default_worker_count_is_this_machines_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HEADWATER_WORKERS", "HEADWATER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    cores = available_cores()
    assert Settings().workers == default_workers(cores, embedded=True)
    monkeypatch.setenv("HEADWATER_DATABASE_URL", "postgresql://db.example.com/headwater")
    assert Settings().workers == default_workers(cores, embedded=False)
    monkeypatch.setenv("HEADWATER_WORKERS", "3")
    assert Settings().workers == 3
    monkeypatch.setenv("HEADWATER_WORKERS", "0")
    with pytest.raises(ValueError, match="workers"):
        Settings()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3600", timedelta(hours=1)), ("P7D", timedelta(days=7)), ("PT12H", timedelta(hours=12))],
)
def test_dedup_window_in_seconds_or_iso_8601(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: timedelta
) -> None:
    monkeypatch.setenv("HEADWATER_DEDUP_WINDOW", value)
    assert Settings().dedup_window == expected


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_json_logs_carry_extra_fields_and_exceptions(capsys: pytest.CaptureFixture[str]) -> None:
    configure(level="info", form="json")
    logger = logging.getLogger("headwater.test")
    logger.info("committed", extra={"events": 3})
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["message"] == "committed"
    assert lines[0]["events"] == 3
    assert lines[0]["level"] == "info"
    assert lines[0]["logger"] == "headwater.test"
    assert lines[1]["level"] == "error"
    assert "ValueError: boom" in lines[1]["exception"]


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("level", ["info", "debug"])
def test_the_http_clients_request_urls_are_never_logged(
    capsys: pytest.CaptureFixture[str], level: str
) -> None:
    configure(level=level, form="json")
    with Sink() as sink, httpx.Client() as client:
        client.post(f"{sink.url}/hook?api_secret=hush-in-query", json={})
    assert "hush" not in capsys.readouterr().err


def test_processes_killed_with_sigkill_are_dropped_from_the_users_list(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    embedded = EmbeddedPostgres(tmp_path)
    embedded.pgdata.mkdir(parents=True)
    handles = embedded.pgdata / ".handle_pids.json"
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        handles.write_text(json.dumps([dead.pid, alive.pid]))
        embedded._forget_dead_processes()
        assert json.loads(handles.read_text()) == [alive.pid]
    finally:
        alive.kill()
        alive.wait()
