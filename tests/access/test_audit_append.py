"""``append_change`` writes in the caller's transaction: the entry commits with the change it
records, and a transaction rolled back (a crash mid-stage) leaves neither."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.access import AuditChange, AuditFilter, Principal, append_change, audit_entries
from headwater.storage import transaction
from headwater.workspaces import create_workspace

JOB = Principal(kind="service_account", label="a job")


class Crash(Exception):
    pass


def _change(resource: str) -> AuditChange:
    return AuditChange(
        workspace="audited", actor=JOB, action="thing.do", resource=resource, after={"n": 1}
    )


async def _crash_after_append(engine: AsyncEngine) -> None:
    async with transaction(engine) as tx:
        await append_change(tx, _change("thing:lost"))
        raise Crash


async def test_the_entry_commits_or_rolls_back_with_its_transaction(engine: AsyncEngine) -> None:
    await create_workspace(engine, slug="audited")
    async with transaction(engine) as tx:
        await append_change(tx, _change("thing:kept"))
    with pytest.raises(Crash):
        await _crash_after_append(engine)
    page = await audit_entries(engine, AuditFilter(workspace="audited"))
    assert [(e["resource"], e["actor"]["label"], e["after"]) for e in page["data"]] == [
        ("thing:kept", "a job", {"n": 1})
    ]
