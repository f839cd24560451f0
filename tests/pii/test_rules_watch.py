"""Every collecting process follows a PII rule change made elsewhere (another process's API
call) as soon as its notification arrives, not when its cached rules expire: a rule made to
hash or block personal values applies on every API node at once."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import pii
from headwater.pii import service
from headwater.supervisor import Health, State
from headwater.workspaces.service import create_workspace
from tests.server import COLLECT_ONLY, WRITE_KEY, start_server


async def _until(check: Callable[[], Awaitable[bool]], within: float) -> None:
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < within, "not within the time allowed"
        await asyncio.sleep(0.05)


async def test_rule_changes_made_elsewhere_apply_when_notified(engine: AsyncEngine) -> None:
    workspace = await create_workspace(engine, slug="pii-watched")
    # Cached for an hour: only the notification can bring a change in time.
    book = pii.RuleBook(engine, ttl=3600)
    assert (await book.current()).rules.get(workspace.id) is None
    stop = asyncio.Event()
    health = Health("pii-rules")
    watching = asyncio.create_task(book.watch(stop, health))

    async def paths() -> list[str | None]:
        return [rule.path for rule in (await book.current()).rules.get(workspace.id, [])]

    try:
        await _until(lambda: _healthy(health), within=10)  # listening
        made = await service.create_rule(
            engine,
            workspace=workspace.slug,
            body={"path": "context.traits.email", "action": "hash"},
        )

        async def hashed() -> bool:
            return await paths() == ["context.traits.email"]

        await _until(hashed, within=10)
        await service.delete_rule(engine, workspace=workspace.slug, rule_id=made["id"])

        async def gone() -> bool:
            return await paths() == []

        await _until(gone, within=10)
    finally:
        stop.set()
        # Ends at once, not when its hour of waiting is up.
        await asyncio.wait_for(watching, timeout=10)


async def _healthy(health: Health) -> bool:
    return health.state is State.UP


async def test_a_rule_made_on_one_api_node_applies_on_another_at_once(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    """Two ``headwater serve`` nodes on one database, rules cached for an hour: a hash rule
    made through node A's API hashes the very next events node B stores."""
    cached = {**COLLECT_ONLY, "HEADWATER_PII_RULES_CACHE_SECONDS": "3600"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = start_server(database_url, tmp_path / "a", extra_env=cached)
    try:
        b = start_server(database_url, tmp_path / "b", extra_env=cached, source=False)
        try:
            sent = itertools.count()

            def track() -> str:
                message_id = f"m-{next(sent)}"
                body = {
                    "userId": "u-1",
                    "event": "Signed Up",
                    "messageId": message_id,
                    "properties": {"email": "ada@example.com"},
                }
                httpx.post(f"{b.url}/v1/track", json=body, auth=(WRITE_KEY, "")).raise_for_status()
                return message_id

            async def stored_email(message_id: str) -> str:
                async with engine.connect() as connection:
                    payload = (
                        await connection.execute(
                            text("SELECT payload FROM events WHERE message_id = :m"),
                            {"m": message_id},
                        )
                    ).scalar_one()
                email: str = payload["properties"]["email"]
                return email

            # B has read (and cached) the rules: none yet.
            assert await stored_email(track()) == "ada@example.com"
            a.api(
                "POST",
                "/api/v1/workspaces/default/pii-rules",
                json={"path": "properties.email", "action": "hash"},
            )

            async def hashed() -> bool:
                return await stored_email(track()) != "ada@example.com"

            await _until(hashed, within=10)
            assert len(await stored_email(track())) == 64  # HMAC-SHA256, hex
        finally:
            b.stop()
    finally:
        a.stop()
