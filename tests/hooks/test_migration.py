"""Migration 0026 on an install at 0025: webhook sources can be made after it; a downgrade keeps
the sources (as server sources) and drops the webhook tables; upgrading again works. Migration
0031: older HubSpot and Twilio sources get their presets' corrected signature checks."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.hooks.presets import preset_config
from headwater.storage import connected
from tests.privacy.helpers import database_at, migrate_to

_SOURCE = "INSERT INTO sources (id, workspace_id, name, write_key, kind) VALUES ($1, 1, $2, $2, $3)"


async def _tables(engine: AsyncEngine) -> set[str]:
    async with connected(engine) as tx:
        rows = await tx.driver.fetch(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'hook_%'"
        )
    return {row["tablename"] for row in rows}


async def test_up_down_and_up_again(postgres_url: str) -> None:
    async with database_at(postgres_url, "hw_mig26", "0025") as engine:
        async with connected(engine) as tx:
            await tx.driver.execute("INSERT INTO workspaces (id, slug, name) VALUES (1, 'w', 'w')")
            with pytest.raises(asyncpg.CheckViolationError):
                await tx.driver.execute(_SOURCE, 1, "hook-before", "webhook")
        await migrate_to(engine, "0026")
        assert await _tables(engine) == {"hook_sources", "hook_requests"}
        async with connected(engine) as tx:
            await tx.driver.execute(_SOURCE, 1, "hook-one", "webhook")
            await tx.driver.execute(
                "INSERT INTO hook_sources (source_id, url_key, config) VALUES (1, 'k', '{}')"
            )
            await tx.driver.execute(
                "INSERT INTO hook_requests (workspace_id, source_id, method, headers, query,"
                " body_bytes, status, outcome, messages, errors)"
                " VALUES (1, 1, 'POST', '{}', '{}', 0, 200, 'stored', '[]', '[]')"
            )
        await migrate_to(engine, "0025", down=True)
        assert await _tables(engine) == set()
        async with connected(engine) as tx:
            kind = await tx.driver.fetchval("SELECT kind FROM sources WHERE id = 1")
        assert kind == "server"
        await migrate_to(engine, "0026")
        assert await _tables(engine) == {"hook_sources", "hook_requests"}


async def _auth(engine: AsyncEngine, source_id: int) -> dict[str, Any]:
    async with connected(engine) as tx:
        config = await tx.driver.fetchval(
            "SELECT config::text FROM hook_sources WHERE source_id = $1", source_id
        )
    return dict(json.loads(config)["auth"])


async def test_0031_gives_older_hubspot_and_twilio_sources_their_presets_checks(
    postgres_url: str,
) -> None:
    """Sources made from the HubSpot and Twilio presets before 0031 get the signature settings a
    source made from the preset has now; a HubSpot source whose signed text was changed by
    hand keeps it; a downgrade gives the earlier settings back."""
    hubspot, twilio = preset_config("hubspot", "s"), preset_config("twilio", "s")
    assert hubspot is not None
    assert twilio is not None
    old_hubspot = {**hubspot["auth"], "signed": "{method}{url}{body}{timestamp}"}
    old_twilio = {k: v for k, v in twilio["auth"].items() if k != "body_hash_param"}
    by_hand = {**old_hubspot, "signed": "{url}{body}"}
    made = [(1, "hubspot", old_hubspot), (2, "twilio", old_twilio), (3, "hubspot", by_hand)]
    async with database_at(postgres_url, "hw_mig31", "0030") as engine:
        async with connected(engine) as tx:
            await tx.driver.execute("INSERT INTO workspaces (id, slug, name) VALUES (1, 'w', 'w')")
            for source_id, preset, auth in made:
                await tx.driver.execute(_SOURCE, source_id, f"hook-{source_id}", "webhook")
                await tx.driver.execute(
                    "INSERT INTO hook_sources (source_id, url_key, preset, config)"
                    " VALUES ($1, $2, $3, $4::jsonb)",
                    source_id,
                    f"k{source_id}",
                    preset,
                    json.dumps({"auth": auth, "rules": []}),
                )
        await migrate_to(engine, "0031")
        assert await _auth(engine, 1) == hubspot["auth"]
        assert await _auth(engine, 2) == twilio["auth"]
        assert await _auth(engine, 3) == by_hand
        await migrate_to(engine, "0030", down=True)
        assert [await _auth(engine, n) for n in (1, 2, 3)] == [old_hubspot, old_twilio, by_hand]
