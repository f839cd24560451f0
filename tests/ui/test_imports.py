"""A developer imports a customer list: uploads it, sees its columns, changes what one column
is, checks every row (the bad one said in plain words), imports, and sees it in the history."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.ui.conftest import World, serious_violations, sign_in

_FILE = (
    "email,first_name,plan,joined\n"
    "ann@example.com,Ann,pro,2026-01-02T00:00:00Z\n"
    ",Nobody,free,2026-01-03T00:00:00Z\n"
    "bob@example.com,Bob,free,2026-01-03T00:00:00Z\n"
)


def test_a_developer_imports_a_customer_list(page: Page, world: World, tmp_path: Path) -> None:
    developer = world.person("developer")
    source = world.source(developer.workspace, name="CRM")
    sign_in(page, developer)
    page.get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", name="No import yet")).to_be_visible()

    path = tmp_path / "customers.csv"
    path.write_text(_FILE, encoding="utf-8")
    page.get_by_label("File (CSV, JSON Lines or Parquet)").set_input_files(path)
    page.get_by_label("Profiles: one person per row").check()
    page.get_by_label("Source").select_option(label="CRM")
    page.get_by_role("button", name="Upload and show columns").click()

    columns = page.get_by_role("table", name="Columns")
    # a developer without pii:read sees the columns, and examples of personal ones masked
    expect(columns.get_by_role("row", name="plan pro")).to_be_visible()
    expect(columns.get_by_role("row").filter(has_text="email")).to_contain_text("[masked]")
    expect(page.get_by_label("email holds")).to_have_value("user_id+field")
    page.get_by_label("plan saved as").fill("tier")
    page.get_by_label("joined holds").select_option(label="Leave it out")
    assert serious_violations(page) == []

    page.get_by_role("button", name="Check every row first").click()
    result = page.get_by_role("status", name="Check result")
    expect(result).to_contain_text("2 of 3 rows can be imported")
    expect(result.get_by_role("list", name="Rows refused")).to_contain_text(
        "Row 2, column “email” is empty: every row needs a userId or an anonymousId."
    )

    page.get_by_role("button", name="Import the rows").click()
    expect(page.get_by_role("status", name="Import state")).to_have_text("Done", timeout=30_000)
    expect(page.get_by_text("2 imported, 0 already there, 1 refused.")).to_be_visible()
    history = page.get_by_role("region", name="Imports")
    expect(history).to_contain_text("customers.csv")

    events = world.server.api(
        "GET", f"/api/v1/workspaces/{developer.workspace}/sources/{source['id']}/events"
    )
    traits = {e["payload"]["userId"]: e["payload"]["traits"] for e in events}
    assert traits["ann@example.com"] == {
        "email": "ann@example.com",
        "first_name": "Ann",
        "tier": "pro",
    }
