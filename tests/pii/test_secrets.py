"""One secret per workspace (migration 0023): the PII salt is derived from the workspace's
identifier key, except where a salt was stored before, which is kept (hashes already made
under it must not change) and moved beside the key; a downgrade writes every salt back."""

from __future__ import annotations

import hashlib
import hmac
import os

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.pii.rules import digest
from headwater.storage import connected, create_engine, migrate, transaction
from headwater.storage.database import _MIGRATIONS
from tests.conftest import scratch_database


def _to(connection: Connection, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


def _derived(key: bytes) -> bytes:
    """HKDF-Expand, one block: HMAC-SHA256(key, "pii-hash" || 0x01)."""
    return hmac.new(key, b"pii-hash\x01", hashlib.sha256).digest()


async def _rows(engine: AsyncEngine, sql: str) -> dict[int, bytes]:
    async with connected(engine) as tx:
        return {r[0]: bytes(r[1]) for r in await tx.driver.fetch(sql)}


async def test_stored_salts_are_kept_and_the_others_derived_from_the_key(
    postgres_url: str,
) -> None:
    salted_keyed, salted_keyless, _keyed = os.urandom(32), os.urandom(32), os.urandom(32)
    key_a, key_c = os.urandom(32), os.urandom(32)
    async with scratch_database(postgres_url, "hw_secrets", template=None) as url:
        engine = create_engine(url, pool_size=2)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(_to, "0022")
            async with connected(engine) as tx:
                for n in (1, 2, 3, 4):
                    await tx.driver.execute(
                        "INSERT INTO workspaces (id, slug, name) VALUES ($1, $2, $2)", n, f"w{n}"
                    )
                # 1: a salt and a key; 2: a salt, no key yet; 3: a key, no salt; 4: neither.
                await tx.driver.execute(
                    "INSERT INTO pii_salts (workspace_id, salt) VALUES (1, $1), (2, $2)",
                    salted_keyed,
                    salted_keyless,
                )
                await tx.driver.execute(
                    "INSERT INTO workspace_keys (workspace_id, identifier_key) VALUES (1, $1),"
                    " (3, $2)",
                    key_a,
                    key_c,
                )
            before = digest("ann@example.com", salted_keyed)

            await migrate(engine)

            async with connected(engine) as tx:
                salts = await workspaces.pii_salts(tx, [1, 2, 3, 4])
                gone = await tx.driver.fetchval("SELECT to_regclass('pii_salts')")
            keys = await _rows(engine, "SELECT workspace_id, identifier_key FROM workspace_keys")
            assert gone is None
            assert salts == {1: salted_keyed, 2: salted_keyless, 3: _derived(key_c)}
            assert digest("ann@example.com", salts[1]) == before  # old hashes still match
            assert keys[1] == key_a
            assert keys[3] == key_c
            assert len(keys[2]) == 32
            assert keys[2] not in (key_a, key_c)
            async with transaction(engine) as tx:  # the key is made on first use, kept
                assert await workspaces.pii_salt(tx, 4) == _derived(
                    await workspaces.identifier_key(tx, 4)
                )
                fourth = await workspaces.pii_salt(tx, 4)

            async with engine.begin() as connection:
                await connection.run_sync(_to, "0022", down=True)
            back = await _rows(engine, "SELECT workspace_id, salt FROM pii_salts")
            assert back == {1: salted_keyed, 2: salted_keyless, 3: _derived(key_c), 4: fourth}
        finally:
            await engine.dispose()
