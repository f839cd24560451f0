"""Run ``headwater serve`` as a subprocess, as a user would, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ADMIN_TOKEN = "test-admin-token"
WRITE_KEY = "test-write-key-0001"
COLLECT_ONLY = {"HEADWATER_RUN_PROCESSOR": "false"}
"""``headwater serve`` without its processor: a test's ``headwater worker`` processes."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Child:
    """A Headwater process started by a test, its output in ``log_path``."""

    process: subprocess.Popen[bytes]
    log_path: Path

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class RunningServer(_Child):
    database_url: str
    data_dir: Path
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    write_key: str = WRITE_KEY
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def admin(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
        )

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        with self.admin() as client:
            response = client.request(method, path, **kwargs)
            response.raise_for_status()
            return response.json()

    def new_workspace(self) -> tuple[str, str, int]:
        """A fresh workspace with one source: (slug, write key, source id)."""
        slug = f"ws-{uuid.uuid4().hex[:10]}"
        write_key = f"wk-{uuid.uuid4().hex}"
        self.api("POST", "/api/v1/workspaces", json={"slug": slug})
        source = self.api(
            "POST",
            f"/api/v1/workspaces/{slug}/sources",
            json={"name": slug, "write_key": write_key},
        )
        return slug, write_key, int(source["id"])

    def restart(self) -> None:
        self.stop()
        self.process = _spawn(
            self.database_url, self.data_dir, self.port, self.log_path, self.extra_env
        )
        _wait_ready(self)


def _spawn(
    database_url: str, data_dir: Path, port: int, log_path: Path, extra_env: dict[str, str]
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HEADWATER_DATABASE_URL": database_url,
        "HEADWATER_ADMIN_TOKEN": ADMIN_TOKEN,
        "HEADWATER_DATA_DIR": str(data_dir),
        "HEADWATER_LOG_LEVEL": "warning",
        # A first start writes the CLI's config file there, never into the real home.
        "XDG_CONFIG_HOME": str(data_dir / "xdg-config"),
        # One process unless a test asks for more: a test that kills the server with -9
        # kills every process it started, and tests share two cores.
        "HEADWATER_WORKERS": "1",
        **extra_env,
    }
    log = log_path.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "headwater", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_until_ready(
    url: str, process: subprocess.Popen[bytes], log: Callable[[], str], timeout: float = 60
) -> None:
    """Poll ``url``'s ``/ready`` until it answers 200; fail with the server's log (``log()``)
    if the process exits or ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"headwater serve exited:\n{log()}"
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"headwater serve did not become ready:\n{log()}")


def _wait_ready(server: RunningServer) -> None:
    wait_until_ready(server.url, server.process, server.log)


def start_server(
    database_url: str,
    data_dir: Path,
    extra_env: dict[str, str] | None = None,
    *,
    source: bool = True,
) -> RunningServer:
    """``headwater serve`` on a free port, ready; with ``source``, the default workspace gets
    a source with :data:`WRITE_KEY` (another node on the same database has it already)."""
    port = free_port()
    log_path = data_dir / "server.log"
    env = extra_env or {}
    server = RunningServer(
        database_url,
        data_dir,
        port,
        _spawn(database_url, data_dir, port, log_path, env),
        log_path,
        extra_env=env,
    )
    try:
        _wait_ready(server)
        if source:
            server.api(
                "POST",
                "/api/v1/workspaces/default/sources",
                json={"name": "tests", "write_key": WRITE_KEY},
            )
    except BaseException:
        server.stop()
        raise
    return server


class Worker(_Child):
    """``headwater worker`` as an operator starts it."""

    def __init__(
        self, database_url: str, log_path: Path, *, extra_env: dict[str, str] | None = None
    ) -> None:
        self.log_path = log_path
        env = {
            **os.environ,
            "HEADWATER_DATABASE_URL": database_url,
            "HEADWATER_LOG_LEVEL": "warning",
            **(extra_env or {}),
        }
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "headwater", "worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
