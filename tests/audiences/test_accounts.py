"""Account audiences: any or all users of an account, computed in batch on a real
PostgreSQL, and the same answer from the in-memory evaluator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import audiences
from headwater.audiences.conditions import parse_audience
from headwater.audiences.evaluate import EventData, Subject, evaluate
from headwater.storage import driver_connection
from headwater.workspaces import bootstrap
from tests.audiences.data import insert_profiles

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PRO = {"type": "trait", "trait": "plan", "operator": "equals", "value": "pro"}
ACTIVE = {"type": "event", "event": "Signed In", "window": {"within_days": 7}}


async def test_any_and_all_users_of_an_account(engine: AsyncEngine) -> None:
    await bootstrap(engine)
    signed_in = [EventData("s", "track", "Signed In", NOW - timedelta(days=1), {})]
    users = {
        "prf_u1": Subject({"plan": "pro"}, signed_in),
        "prf_u2": Subject({"plan": "free"}, signed_in),
        "prf_u3": Subject({"plan": "pro"}, []),
    }
    accounts = {"prf_a1": ["prf_u1", "prf_u2"], "prf_a2": ["prf_u1", "prf_u3"], "prf_a3": []}
    async with engine.begin() as connection:
        driver = await driver_connection(connection)
        await insert_profiles(driver, 1, users, at=NOW)
        await insert_profiles(
            driver, 1, {a: Subject({"tier": "gold"}, []) for a in accounts}, kind="account", at=NOW
        )
        for account, members in accounts.items():
            for user in members:
                await driver.execute(
                    "INSERT INTO account_links VALUES (1, $1, $2, 'm', $3)", user, account, NOW
                )
    definitions = {
        "any_pro": {"type": "users", "match": "any", "condition": PRO},
        "all_pro": {"type": "users", "match": "all", "condition": PRO},
        "all_active": {"type": "users", "match": "all", "condition": ACTIVE},
        "gold_with_active_pro": {
            "type": "and",
            "conditions": [
                {"type": "trait", "trait": "tier", "operator": "equals", "value": "gold"},
                {
                    "type": "users",
                    "match": "any",
                    "condition": {"type": "and", "conditions": [PRO, ACTIVE]},
                },
            ],
        },
    }
    for key, condition in definitions.items():
        made = await audiences.create(
            engine,
            workspace="default",
            kind="audience",
            key=key,
            name=key,
            subject="account",
            definition={"version": 1, "condition": condition},
        )
        assert made["realtime"] is False  # account audiences are computed in batch
    await audiences.recompute(engine, workspace="default", now=NOW)
    expected = {
        "any_pro": {"prf_a1", "prf_a2"},
        "all_pro": {"prf_a2"},
        "all_active": {"prf_a1"},  # prf_a3 has no users: not "all"
        "gold_with_active_pro": {"prf_a1", "prf_a2"},
    }
    for key, members in expected.items():
        page = await audiences.members(engine, workspace="default", kind="audience", key=key)
        assert {m["profile_id"] for m in page["data"]} == members, key
        condition = parse_audience({"version": 1, "condition": definitions[key]}).condition
        in_memory = {
            account
            for account, linked in accounts.items()
            if evaluate(
                condition, Subject({"tier": "gold"}, [], users=[users[u] for u in linked]), NOW
            )
        }
        assert in_memory == members, key
