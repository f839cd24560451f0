"""The ``headwater`` command run as a user runs it: a subprocess, with settings in its
environment. Events are stored through the real collection service in the test's process."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.collect import Collector, CommitResult, TrackingRequest
from headwater.log import PostgresLog
from headwater.settings import Settings
from headwater.workspaces import Bootstrap, bootstrap

COMMAND = [sys.executable, "-m", "headwater"]


def clean_env(**values: str) -> dict[str, str]:
    """The test process's environment without any ``HEADWATER_`` setting, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    return {**env, "HEADWATER_LOG_LEVEL": "warning", **values}


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
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 60) -> Finished:
        done = subprocess.run(
            [*COMMAND, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        return Finished(done.returncode, done.stdout, done.stderr)

    async def start(self, *args: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            *COMMAND,
            *args,
            env=self.env,
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


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    return Cli(clean_env(HEADWATER_DATABASE_URL=database_url, HEADWATER_DATA_DIR=str(tmp_path)))


@pytest.fixture
async def first_start(engine: AsyncEngine) -> Bootstrap:
    """What ``headwater serve`` creates on first start: the default workspace and source."""
    created = await bootstrap(engine, admin_token="set-in-the-environment")
    assert created is not None
    return created


@dataclass
class Sender:
    collector: Collector

    async def send(
        self, write_key: str, body: dict[str, Any], route_type: str | None = "track"
    ) -> CommitResult:
        basic = base64.b64encode(f"{write_key}:".encode()).decode()
        return await self.collector.collect(
            TrackingRequest(
                body=json.dumps(body).encode(),
                route_type=route_type,
                authorization=f"Basic {basic}",
            )
        )


@pytest.fixture
async def sender(engine: AsyncEngine, settings: Settings) -> AsyncIterator[Sender]:
    log = PostgresLog(engine, settings.log_partitions)
    collector = Collector(engine=engine, log=log, settings=settings)
    await collector.start()
    try:
        yield Sender(collector)
    finally:
        await collector.stop()
        await log.close()
