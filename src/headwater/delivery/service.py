"""Operations of the delivery engine that span a destination and its queue, each in its own
transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.delivery import store
from headwater.destinations import DestinationDeletedView, remove
from headwater.storage import transaction

__all__ = ["delete_destination"]


async def delete_destination(
    engine: AsyncEngine, *, workspace: str, destination_id: int
) -> DestinationDeletedView:
    """Delete a disabled destination (409 while enabled) with its undelivered events, dead
    letters, errors and stats, in one transaction: the answer says how many were dropped."""
    async with transaction(engine) as connection:
        await remove(connection, workspace=workspace, destination_id=destination_id)
        dropped = await store.purge(connection, destination_id)
    return {"deleted": destination_id, "undelivered_dropped": dropped}
