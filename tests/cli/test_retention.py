"""``headwater privacy retention`` against a running server: windows, dry run, apply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.storage import connected
from tests.cli.conftest import Cli
from tests.privacy.helpers import append

OLD = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=10)


async def _ids(engine: AsyncEngine) -> tuple[int, int]:
    """The default workspace's id and its source's."""
    async with connected(engine) as tx:
        row = await tx.driver.fetchrow(
            "SELECT w.id, s.id FROM workspaces w JOIN sources s ON s.workspace_id = w.id"
            " WHERE w.slug = 'default' ORDER BY s.id LIMIT 1"
        )
    assert row is not None
    return row[0], row[1]


async def _events(engine: AsyncEngine) -> int:
    async with connected(engine) as tx:
        count: int = await tx.driver.fetchval("SELECT count(*) FROM events")
    return count


def _windows(cli: Cli) -> set[tuple[str, int | None, int]]:
    shown = cli.run("privacy", "retention", "show", "--json").json()
    return {(w["store"], w["source_id"], w["days"]) for w in shown["windows"]}


async def test_windows_dry_run_and_apply(cli: Cli, engine: AsyncEngine) -> None:
    workspace_id, source_id = await _ids(engine)
    table = cli.run("privacy", "retention", "show")
    assert table.returncode == 0, table.stderr
    assert "kept until a window is set" in table.stdout
    assert _windows(cli) == set()

    assert cli.run("privacy", "retention", "set", "events", "5").returncode == 0
    by_source = cli.run("privacy", "retention", "set", "events", "2", "--source", str(source_id))
    assert by_source.returncode == 0, by_source.stderr
    assert cli.run("privacy", "retention", "set", "events", "30").returncode == 0
    assert _windows(cli) == {("events", None, 30), ("events", source_id, 2)}
    refused = cli.run(
        "privacy", "retention", "set", "delivery_logs", "3", "--source", str(source_id)
    )
    assert (refused.returncode, "source_window_not_supported" in refused.stderr) == (1, True)
    assert cli.run("privacy", "retention", "set", "nothing", "3").returncode == 2

    await append(engine, OLD, 4, workspace_id=workspace_id, source_id=source_id)
    plan = cli.run("privacy", "retention", "dry-run", "--json").json()
    assert (plan["dry_run"], plan["rows"]) == (True, 4)
    assert {item["store"] for item in plan["items"]} == {"events"}
    shown = cli.run("privacy", "retention", "dry-run")
    assert "4 rows would go" in shown.stdout
    assert plan["items"][0]["action"] in shown.stdout
    assert await _events(engine) == 4

    unconfirmed = cli.run("privacy", "retention", "apply")
    assert unconfirmed.returncode == 2
    assert "--yes" in unconfirmed.stderr
    assert await _events(engine) == 4
    applied = cli.run("privacy", "retention", "apply", "--yes", "--json").json()
    assert (applied["dry_run"], applied["rows"]) == (False, 4)
    assert await _events(engine) == 0

    unset = cli.run("privacy", "retention", "unset", "events", "--source", str(source_id))
    assert unset.returncode == 0, unset.stderr
    assert _windows(cli) == {("events", None, 30)}
    assert cli.run("privacy", "retention", "unset", "quarantine").returncode == 2
