"""Embedded PostgreSQL starts with Headwater's settings, sized to the machine, from its very
first start; an operator's ``ALTER SYSTEM`` still wins after a restart."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import psutil
import pytest

from headwater.storage.embedded import EmbeddedPostgres, embedded_settings

_MB = 1024 * 1024


@pytest.mark.parametrize(
    ("memory", "buffers"),
    [(512 * _MB, "128MB"), (4096 * _MB, "512MB"), (24 * 1024 * _MB, "1024MB")],
)
def test_shared_buffers_are_an_eighth_of_memory_between_128_mb_and_1_gb(
    memory: int, buffers: str
) -> None:
    assert embedded_settings(memory)["shared_buffers"] == buffers


async def _settings(embedded: EmbeddedPostgres, names: list[str]) -> dict[str, str]:
    connection = await asyncpg.connect(
        host=str(embedded.pgdata), user="postgres", database="postgres"
    )
    try:
        rows = await connection.fetch(
            "SELECT name, current_setting(name) FROM unnest($1::text[]) AS s(name)", names
        )
        return {row[0]: row[1] for row in rows}
    finally:
        await connection.close()


async def test_a_new_cluster_runs_with_the_settings_and_alter_system_overrides_them(
    tmp_path: Path,
) -> None:
    expected = embedded_settings(psutil.virtual_memory().total)
    shown = {  # as SHOW prints them
        **expected,
        "shared_buffers": expected["shared_buffers"].replace("1024MB", "1GB"),
    }
    embedded = EmbeddedPostgres(tmp_path)
    await embedded.start()
    try:
        assert await _settings(embedded, list(expected)) == shown
        connection = await asyncpg.connect(
            host=str(embedded.pgdata), user="postgres", database="postgres"
        )
        await connection.execute("ALTER SYSTEM SET random_page_cost = 3")
        await connection.close()
    finally:
        await embedded.stop()

    restarted = EmbeddedPostgres(tmp_path)
    await restarted.start()
    try:
        assert (await _settings(restarted, ["random_page_cost", "max_wal_size"])) == {
            "random_page_cost": "3",
            "max_wal_size": shown["max_wal_size"],
        }
    finally:
        await restarted.stop()
