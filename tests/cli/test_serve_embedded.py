"""The zero-setup promise: ``headwater serve`` with no database URL starts its own PostgreSQL
in the data directory, prints what the user needs on first start, and keeps it all across
restarts."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Serve, clean_env


@pytest.fixture
def short_data_dir() -> Iterator[Path]:
    """A data directory with a short path: PostgreSQL's socket lives in it, and socket paths
    are limited to about 100 characters."""
    path = Path(tempfile.mkdtemp(prefix="hw-serve-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _wait_postgres_stopped(pgdata: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (pgdata / "postmaster.pid").exists():
        assert time.monotonic() < deadline, "embedded PostgreSQL still runs after serve stopped"
        time.sleep(0.1)


def test_serve_runs_on_embedded_postgres_with_zero_setup(
    short_data_dir: Path, tmp_path: Path
) -> None:
    # no HEADWATER_DATABASE_URL, no HEADWATER_ADMIN_TOKEN
    env = clean_env(tmp_path / "config")
    first = Serve(short_data_dir, tmp_path / "first.log", env)
    try:
        first.wait_ready()
        output = first.output()
        write_key = re.search(r"write key\s+(\S+)", output)
        admin_token = re.search(r"API token\s+(hw_\S+)", output)
        assert write_key, output
        assert admin_token, output
        response = httpx.post(
            f"{first.url}/v1/track",
            json={"userId": "u1", "event": "Signed Up", "messageId": "zero-setup-1"},
            auth=(write_key[1], ""),
            timeout=30,
        )
        assert response.json() == {"success": True}
    finally:
        first.terminate()
    assert (short_data_dir / "postgres").is_dir()
    _wait_postgres_stopped(short_data_dir / "postgres")

    second = Serve(short_data_dir, tmp_path / "second.log", env)
    try:
        second.wait_ready()
        output = second.output()
        assert "write key" not in output, output
        assert "API token" not in output, output
        assert write_key[1] not in output
        admin = {"Authorization": f"Bearer {admin_token[1]}"}
        stored = httpx.get(
            f"{second.url}/api/v1/workspaces/default/events/zero-setup-1", headers=admin, timeout=30
        )
        assert stored.status_code == 200, stored.text
        assert stored.json()["payload"]["event"] == "Signed Up"
        again = httpx.post(
            f"{second.url}/v1/track",
            json={"userId": "u1", "event": "Came Back"},
            auth=(write_key[1], ""),
            timeout=30,
        )
        assert again.json() == {"success": True}
    finally:
        second.terminate()
    _wait_postgres_stopped(short_data_dir / "postgres")
