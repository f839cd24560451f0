"""The ``headwater`` command run as a user runs it: a subprocess in an empty directory of its
own, talking to a real ``headwater serve`` (tests/server.py) by URL and admin token."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import ADMIN_TOKEN, RunningServer, free_port, wait_until_ready

COMMAND = [sys.executable, "-m", "headwater"]


def clean_env(config_home: Path, **values: str) -> dict[str, str]:
    """The test process's environment without any ``HEADWATER_`` setting, with
    ``XDG_CONFIG_HOME`` at ``config_home`` (never the real home's), plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    return {**env, "HEADWATER_LOG_LEVEL": "warning", "XDG_CONFIG_HOME": str(config_home), **values}


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.returncode == 0, f"exit {self.returncode}: {self.stderr}{self.stdout}"
        return json.loads(self.stdout)


@dataclass
class Cli:
    """``headwater`` with this environment, run in ``cwd``."""

    env: dict[str, str]
    cwd: Path

    def run(self, *args: str, timeout: float = 60, stdin: str | None = None) -> Finished:
        done = subprocess.run(
            [*COMMAND, *args],
            env=self.env,
            cwd=self.cwd,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Finished(done.returncode, done.stdout, done.stderr)

    def run_in_terminal(self, *args: str) -> tuple[int, str]:
        """Run with stdin, stdout and stderr on a pseudo-terminal, as in a user's shell; the
        exit status and what the terminal showed, without colour codes."""
        primary, secondary = pty.openpty()
        env = {**self.env, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "50"}
        process = subprocess.Popen(
            [*COMMAND, *args],
            env=env,
            cwd=self.cwd,
            stdin=secondary,
            stdout=secondary,
            stderr=secondary,
        )
        os.close(secondary)
        shown = bytearray()
        try:
            while chunk := os.read(primary, 65536):
                shown += chunk
        except OSError:  # EIO: the child closed the terminal's last descriptor
            pass
        finally:
            os.close(primary)
        returncode = process.wait(timeout=60)
        return returncode, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode(errors="replace"))

    async def start(self, *args: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            *COMMAND,
            *args,
            env=self.env,
            cwd=self.cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    async def run_async(self, *args: str) -> Finished:
        process = await self.start(*args)
        try:
            async with asyncio.timeout(60):
                stdout, stderr = await process.communicate()
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
        assert process.returncode is not None
        return Finished(process.returncode, stdout.decode(), stderr.decode())

    async def run_all(self, *commands: list[str]) -> list[Finished]:
        """Run commands at once (each starts a Python process: running them in turn is slow)."""
        return list(await asyncio.gather(*(self.run_async(*command) for command in commands)))


def cli_for(server: RunningServer, tmp_path: Path) -> Cli:
    """The CLI pointed at ``server`` by HEADWATER_URL and HEADWATER_TOKEN, run in an empty
    directory under ``tmp_path``."""
    workdir = tmp_path / "cwd"
    workdir.mkdir(parents=True, exist_ok=True)
    env = clean_env(tmp_path / "cli-config", HEADWATER_URL=server.url, HEADWATER_TOKEN=ADMIN_TOKEN)
    return Cli(env, workdir)


@pytest.fixture
def cli(server: RunningServer, tmp_path: Path) -> Cli:
    return cli_for(server, tmp_path)


def send(
    server: RunningServer,
    body: dict[str, Any],
    path: str = "/v1/track",
    *,
    write_key: str | None = None,
) -> Any:
    """One tracking request (with the server's write key unless given); its JSON answer."""
    auth = (write_key or server.write_key, "")
    return httpx.post(server.url + path, json=body, auth=auth, timeout=30).json()


class Serve:
    """``headwater serve`` as a user starts it, with ``env`` as its whole environment."""

    def __init__(self, data_dir: Path, log_path: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*COMMAND, "serve", "--data-dir", str(data_dir), "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 180) -> None:
        wait_until_ready(self.url, self.process, self.output, timeout)

    def terminate(self) -> None:
        """SIGTERM, and a clean exit: uvicorn shuts down, then re-raises the signal, so the exit
        status is 0 or "killed by SIGTERM" (which service managers count as a clean stop)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"serve ignored SIGTERM:\n{self.output()}") from None
        assert status in (0, -signal.SIGTERM), f"exit {status}:\n{self.output()}"
        assert "Traceback" not in self.output(), self.output()
