"""kill -9 in the middle of a regulation: after a restart, the job takes the regulation over
where its subjects stood (the lease runs out) and finishes it, each subject done once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from headwater.storage import create_engine
from tests.privacy.helpers import ended, public
from tests.server import start_server

pytestmark = pytest.mark.e2e

SUBJECTS = 3000


async def _ended_targets(database_url: str, regulate_id: str) -> int:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(
                text(
                    "SELECT count(*) FROM regulation_targets"
                    " WHERE regulation_id = :id AND stage = 'ended'"
                ),
                {"id": regulate_id},
            )
            return int(found)
    finally:
        await engine.dispose()


async def _suppressed(database_url: str) -> int:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(text("SELECT count(*) FROM suppressions")))
    finally:
        await engine.dispose()


def test_a_regulation_killed_mid_way_finishes_after_a_restart(
    database_url: str, tmp_path: Path
) -> None:
    server = start_server(database_url, tmp_path, {"HEADWATER_REGULATION_LEASE_SECONDS": "3"})
    try:
        slug, _, _ = server.new_workspace()
        ids = [f"crash-{i}" for i in range(SUBJECTS)]
        with public(server, slug) as client:
            body = {"regulationType": "SUPPRESS_ONLY", "subjectType": "USER_ID", "subjectIds": ids}
            created = client.post("/regulations", json=body)
        assert created.status_code == 200, created.text
        regulate_id = created.json()["data"]["regulateId"]
        deadline = time.monotonic() + 120
        while asyncio.run(_ended_targets(database_url, regulate_id)) == 0:
            assert time.monotonic() < deadline, server.log()[-3000:]
            time.sleep(0.05)
        server.kill()
        done_at_kill = asyncio.run(_ended_targets(database_url, regulate_id))
        assert 0 < done_at_kill < SUBJECTS  # killed mid-way
        server.restart()
        regulation = ended(server, slug, regulate_id, timeout=240)
        assert regulation["overallStatus"] == "FINISHED"
        assert [t["status"] for t in regulation["targets"]] == ["FINISHED"] * SUBJECTS
        assert asyncio.run(_suppressed(database_url)) == SUBJECTS
    finally:
        server.stop()
