"""An instance owner's API tokens on a real database: owner everywhere, or narrowed everywhere."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.access import Permission, Role, authenticate_token, bootstrap_owner
from headwater.access.credentials import digest
from headwater.access.store import insert_token
from headwater.storage import transaction


async def test_an_owners_narrower_instance_token_is_narrowed_in_every_workspace(
    engine: AsyncEngine,
) -> None:
    await workspaces.bootstrap(engine)
    await workspaces.create_workspace(engine, slug="shop")
    first = await bootstrap_owner(engine, admin_token=None, email=None, password=None)
    assert first is not None
    assert first.admin_token is not None
    async with transaction(engine) as connection:
        await insert_token(
            connection,
            token_sha256=digest("hw_analyst"),
            name="read only",
            role=Role.ANALYST,
            pii_read=False,
            user_id=first.user_id,
        )

    owner = await authenticate_token(engine, first.admin_token, configured=None)
    assert owner is not None
    assert owner.instance_owner
    assert owner.allows("shop", Permission.PEOPLE_WRITE)
    assert owner.pii_read("shop")
    assert owner.pii_read(None)  # the instance's own entries (its audit trail)

    narrowed = await authenticate_token(engine, "hw_analyst", configured=None)
    assert narrowed is not None
    assert not narrowed.instance_owner
    for workspace in ("default", "shop"):
        assert narrowed.allows(workspace, Permission.AUDIENCES_READ)
        assert not narrowed.allows(workspace, Permission.AUDIENCES_WRITE)
        assert not narrowed.pii_read(workspace)
    assert not narrowed.allows(None, Permission.INSTANCE_OWNER)
    assert not narrowed.pii_read(None)
