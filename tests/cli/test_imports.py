"""``headwater import FILE`` against a running server: dry run, import with a progress bar and
a summary, the same file again, and a mapping given by options."""

from __future__ import annotations

import asyncio

from tests.cli.conftest import Cli
from tests.server import RunningServer

_FILE = (
    "email,plan,seats,joined\n"
    "ann@example.com,pro,3,2026-01-02T00:00:00Z\n"
    ",free,1,2026-01-03T00:00:00Z\n"
    "bob@example.com,free,1,2026-01-03T00:00:00Z\n"
)


async def test_import_a_csv_of_profiles(cli: Cli, server: RunningServer) -> None:
    made = await asyncio.to_thread(
        server.api, "POST", "/api/v1/workspaces/default/sources", json={"name": "crm"}
    )
    (cli.cwd / "people.csv").write_text(_FILE, encoding="utf-8")
    common = ["import", "people.csv", "--kind", "profiles", "--source", "crm"]

    dry = cli.run(*common, "--dry-run")
    assert dry.returncode == 1, dry.stderr  # a row is refused
    assert "3 rows, 2 would be imported, 1 refused" in dry.stderr
    assert "every row needs a userId or an anonymousId" in dry.stdout

    code, shown = cli.run_in_terminal(*common)
    assert code == 0, shown
    assert "importing people.csv" in shown
    assert "3/3" in shown

    again = cli.run(*common, "--json")
    summary = again.json()
    assert (summary["status"], summary["imported"], summary["duplicates"]) == ("done", 0, 2)
    assert summary["rejected"] == 1
    assert summary["errors"][0]["row"] == 2

    fields = cli.run(*common, "--field", "plan=tier", "--key", "email", "--json").json()
    assert fields["mapping"]["fields"] == {"plan": "tier"}
    assert fields["imported"] == 2
    events = await asyncio.to_thread(
        server.api, "GET", f"/api/v1/workspaces/default/sources/{made['id']}/events"
    )
    traits = [e["payload"]["traits"] for e in events if e["payload"]["traits"].get("tier")]
    assert sorted(t["tier"] for t in traits) == ["free", "pro"]

    unknown = cli.run("import", "people.csv", "--kind", "profiles", "--source", "nope")
    assert unknown.returncode == 2
    assert "no single source named 'nope'" in unknown.stderr
