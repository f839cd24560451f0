"""Reverse ETL in the web app: a developer finds empty states that say what to do, creates a
model (previewing its rows first), creates a sync to profiles, runs it now and sees the run's
counts; a row that cannot be sent shows with its reason. The database URL's password is never
on the page."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.retl.conftest import PASSWORD, Customer
from tests.retl.conftest import customer as customer_database
from tests.ui.conftest import World, serious_violations, sign_in


@pytest.fixture
def customer(postgres_url: str) -> Iterator[Customer]:
    """The customer's database (tests/retl/conftest.py), with 20 customers, one of them
    without an email; made on an event loop in a thread of its own (Playwright holds this
    thread's)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, loop).result()

    made = customer_database.__wrapped__(postgres_url)  # type: ignore[attr-defined]
    found: Customer = run(made.__anext__())
    run(
        found.execute(
            "CREATE TABLE customers (id int PRIMARY KEY, email text, plan text)",
            "INSERT INTO customers SELECT n, 'user' || n || '@example.com', 'free'"
            " FROM generate_series(1, 20) n",
            "UPDATE customers SET email = NULL WHERE id = 7",
        )
    )
    try:
        yield found
    finally:
        with pytest.raises(StopAsyncIteration):
            run(made.__anext__())
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


def test_a_developer_syncs_a_model_to_profiles(
    page: Page, world: World, customer: Customer
) -> None:
    developer = world.person("developer")
    sign_in(page, developer)
    page.get_by_role("link", name="Reverse ETL").click()
    expect(page.get_by_role("region", name="No sync yet")).to_contain_text("Start with a model")
    expect(page.get_by_role("region", name="No model yet")).to_be_visible()

    page.get_by_role("button", name="New model").click()
    page.get_by_label("Name", exact=True).fill("Customers")
    page.get_by_label("Database URL").fill(customer.url)
    page.get_by_label("SQL query").fill("SELECT id, email, plan FROM customers ORDER BY id")
    page.get_by_label("Primary key column").fill("id")
    page.get_by_role("button", name="Preview rows").click()
    preview = page.get_by_role("table", name="Preview rows")
    expect(preview).to_contain_text("user3@example.com")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Save model").click()
    expect(page.get_by_role("region", name="Models")).to_contain_text("postgresql://reader:***@")
    assert PASSWORD not in page.content()

    page.get_by_role("button", name="New sync").click()
    page.get_by_label("Name", exact=True).fill("Customers to profiles")
    page.get_by_label("Model").select_option(label="Customers")
    expect(page.get_by_text("Its columns: id, email, plan.")).to_be_visible()
    page.get_by_label("User id column").fill("email")
    page.get_by_label("Traits: one per line").fill("plan")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Create sync").click()
    expect(page.get_by_role("heading", name="Customers to profiles")).to_be_visible()
    expect(page.get_by_role("region", name="No run yet")).to_contain_text("Run now")

    page.get_by_role("button", name="Run now").click()
    runs = page.get_by_role("table", name="Runs")
    expect(runs).to_contain_text("19 added, 0 changed, 0 removed, 1 failed", timeout=30_000)
    runs.get_by_text("Rows that failed").click()
    expect(runs).to_contain_text("7:")
    expect(runs.get_by_role("listitem")).to_contain_text("userId")
    assert serious_violations(page) == []
    assert PASSWORD not in page.content()
