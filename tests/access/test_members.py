"""People and memberships: invitations, disabling, and never losing the last owner."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import access, workspaces
from headwater.access import Role
from headwater.errors import BadRequest, Conflict, NotFound


async def _workspace(engine: AsyncEngine, slug: str) -> str:
    await workspaces.create_workspace(engine, slug=slug)
    return slug


async def test_a_member_is_created_invited_and_added_once(engine: AsyncEngine) -> None:
    shop = await _workspace(engine, "shop")
    added = await access.add_member(
        engine,
        workspace=shop,
        email="ana@example.com",
        role=Role.ANALYST,
        pii_read=False,
        password=None,
    )
    assert added.invite_token is not None
    assert added.invite_token.startswith("hwl_")
    assert added.view["role"] == "analyst"
    assert added.view["email"] == "ana@example.com"
    with pytest.raises(Conflict) as again:
        await access.add_member(
            engine,
            workspace=shop,
            email="ANA@example.com",
            role=Role.OWNER,
            pii_read=True,
            password=None,
        )
    assert again.value.code == "already_member"
    other = await _workspace(engine, "other")
    with pytest.raises(BadRequest) as password:
        await access.add_member(
            engine,
            workspace=other,
            email="ana@example.com",
            role=Role.OWNER,
            pii_read=True,
            password="a password for someone else",
        )
    assert password.value.code == "password_not_allowed"
    existing = await access.add_member(
        engine,
        workspace=other,
        email="ana@example.com",
        role=Role.MARKETER,
        pii_read=False,
        password=None,
    )
    assert existing.invite_token is None  # an account already: no second invitation
    (person,) = [u for u in await access.list_users(engine) if u["email"] == "ana@example.com"]
    assert {m["workspace"]: m["role"] for m in person["workspaces"]} == {
        "other": "marketer",
        "shop": "analyst",
    }
    user_id = person["id"]
    with pytest.raises(NotFound) as elsewhere:
        await access.update_member(
            engine,
            workspace=await _workspace(engine, "third"),
            user_id=user_id,
            role=Role.OWNER,
            pii_read=None,
        )
    assert elsewhere.value.code == "member_not_found"
    updated = await access.update_member(
        engine, workspace=shop, user_id=user_id, role=None, pii_read=True
    )
    assert (updated["role"], updated["pii_read"]) == ("analyst", True)


async def test_the_last_owner_is_kept_while_no_instance_owner_exists(engine: AsyncEngine) -> None:
    shop = await _workspace(engine, "shop")
    first = await access.add_member(
        engine,
        workspace=shop,
        email="o1@example.com",
        role=Role.OWNER,
        pii_read=True,
        password=None,
    )
    first_id = first.view["user_id"]
    for change in (
        access.remove_member(engine, workspace=shop, user_id=first_id),
        access.update_member(
            engine, workspace=shop, user_id=first_id, role=Role.ADMIN, pii_read=None
        ),
    ):
        with pytest.raises(Conflict) as refused:
            await change
        assert refused.value.code == "last_owner"
    await access.add_member(
        engine,
        workspace=shop,
        email="o2@example.com",
        role=Role.OWNER,
        pii_read=True,
        password=None,
    )
    await access.update_member(
        engine, workspace=shop, user_id=first_id, role=Role.ADMIN, pii_read=None
    )
    (second,) = [m for m in await access.list_members(engine, shop) if m["role"] == "owner"]
    # With an instance owner (owner of every workspace), the last owner may go.
    await access.bootstrap_owner(engine, admin_token="token", email=None, password=None)
    await access.remove_member(engine, workspace=shop, user_id=second["user_id"])
    assert [m["role"] for m in await access.list_members(engine, shop)] == ["admin"]


async def test_the_last_instance_owner_cannot_be_disabled(engine: AsyncEngine) -> None:
    first = await access.bootstrap_owner(engine, admin_token="token", email=None, password=None)
    assert first is not None
    with pytest.raises(Conflict) as refused:
        await access.disable_user(engine, first.user_id)
    assert refused.value.code == "last_owner"
    second = await access.create_user(
        engine, email="boss@example.com", password=None, instance_owner=True
    )
    disabled = await access.disable_user(engine, first.user_id)
    assert disabled["disabled"]
    with pytest.raises(Conflict):
        await access.disable_user(engine, second.view["id"])
    with pytest.raises(NotFound) as unknown:
        await access.disable_user(engine, 999_999)
    assert unknown.value.code == "user_not_found"
    with pytest.raises(Conflict) as taken:
        await access.create_user(
            engine, email="Boss@Example.com", password=None, instance_owner=False
        )
    assert taken.value.code == "email_taken"
