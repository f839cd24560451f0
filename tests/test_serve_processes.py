"""``headwater serve`` as the README starts it: several processes on one port (one per core by
default), embedded PostgreSQL shared by them, the processor in each. Every event reaches its
profile once, whichever process collected it and whichever processor leased its partition,
and stopping the server stops PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tests.server import ADMIN_TOKEN, free_port, wait_until_ready

PEOPLE = 12
"""Enough people to spread over most of the log's 16 partitions, so both processors work."""


_SLOW_START = """
import sys, time
if "--multiprocessing-fork" in sys.argv:  # a server process uvicorn spawned, not the parent
    time.sleep(7)
"""
"""A ``sitecustomize`` that makes each server process start 7 s late, as importing Headwater
took on a busy 2-core machine."""


def _serve(tmp_path: Path, **env: str) -> tuple[str, subprocess.Popen[bytes], Path]:
    """``headwater serve --workers 2`` on embedded PostgreSQL in ``tmp_path``: its URL, its
    process and its log."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    environment |= {
        "HEADWATER_DATA_DIR": str(tmp_path),
        "HEADWATER_ADMIN_TOKEN": ADMIN_TOKEN,
        "HEADWATER_WORKERS": "2",
        "HEADWATER_LOG_LEVEL": "warning",
        **env,
    }
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "headwater", "serve", "--port", str(port)],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return f"http://127.0.0.1:{port}", server, log


def _stop(server: subprocess.Popen[bytes], log: Path) -> None:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    assert server.returncode == 0, log.read_text(errors="replace")


def _wait_ready(
    url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 120
) -> None:
    wait_until_ready(url, process, lambda: log.read_text(errors="replace"), seconds)


def _events_of(url: str, user: str) -> list[str]:
    response = httpx.get(
        f"{url}/v1/spaces/default/collections/users/profiles/user_id:{user}/events",
        params={"limit": 100},
        auth=(ADMIN_TOKEN, ""),
        timeout=10,
    )
    if response.status_code == 404:
        return []
    assert response.status_code == 200, response.text
    return sorted(event["messageId"] for event in response.json()["data"])


def test_two_processes_on_embedded_postgres_process_every_event_once(tmp_path: Path) -> None:
    url, server, log = _serve(tmp_path)
    try:
        _wait_ready(url, server, log)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        sources = httpx.get(f"{url}/api/v1/workspaces/default/sources", headers=headers).json()
        write_key = sources[0]["write_key"]
        expected: dict[str, list[str]] = {}
        # one request a person: the two processes' collectors take the connections in turn
        for n in range(PEOPLE):
            batch = [
                {"type": "track", "userId": f"p{n}", "event": "Step", "messageId": f"p{n}-{k}"}
                for k in range(3)
            ]
            answer = httpx.post(f"{url}/v1/batch", json={"batch": batch}, auth=(write_key, ""))
            assert answer.status_code == 200, answer.text
            expected[f"p{n}"] = sorted(item["messageId"] for item in batch)
        deadline = time.monotonic() + 60
        seen: dict[str, list[str]] = {}
        while time.monotonic() < deadline:
            seen = {user: _events_of(url, user) for user in expected}
            if seen == expected:
                break
            time.sleep(0.5)
        assert seen == expected
    finally:
        _stop(server, log)
    # the last process to leave stopped the embedded server
    assert not (tmp_path / "postgres" / "postmaster.pid").exists()


def test_server_processes_slow_to_start_are_waited_for_not_killed(tmp_path: Path) -> None:
    """uvicorn kills a process that has not answered its ping in time and starts another; with
    its 5 s default, processes that took 7 s to import were killed one after the other and the
    server never answered."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(_SLOW_START)
    path = os.pathsep.join([str(tmp_path / "site"), os.environ.get("PYTHONPATH", "")])
    url, server, log = _serve(tmp_path, PYTHONPATH=path, HEADWATER_LOG_LEVEL="info")
    try:
        _wait_ready(url, server, log, seconds=60)
    finally:
        _stop(server, log)
    assert "died" not in log.read_text(errors="replace")


def test_server_processes_stop_when_their_parent_is_killed(tmp_path: Path) -> None:
    url, server, log = _serve(tmp_path)
    try:
        _wait_ready(url, server, log)
        children = psutil.Process(server.pid).children()
        assert len(children) >= 2  # the two server processes (and multiprocessing's helper)
        server.kill()
        server.wait(timeout=30)
        _, alive = psutil.wait_procs(children, timeout=60)
        assert alive == [], log.read_text(errors="replace")
    finally:
        if server.poll() is None:
            server.kill()
    # the last process to leave stopped the embedded server, although the parent was gone
    assert not (tmp_path / "postgres" / "postmaster.pid").exists(), log.read_text(errors="replace")
