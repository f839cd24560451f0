"""Deletions forwarded to destinations: the face the privacy regulation job calls.

When Headwater forgets a person, each destination whose connector deletes
(:attr:`~headwater.connectors.Connector.deletes`) must be asked to forget them too. The job lists
those destinations once (:func:`deleting_destinations`), then calls :func:`forward_deletion` for
each, records the result per destination and calls again later for those retried, like Segment's
per-destination regulation status. Nothing here retries, sleeps or records: one call sends the
vendor's deletion request(s) once and answers what happened::

    async with connected(engine) as tx:
        targets = await deleting_destinations(tx, workspace_id=workspace_id)
    subject = DeletionSubject(regulation_id="reg_1", user_ids=("u1",), emails=("a@x.io",))
    async with httpx.AsyncClient(timeout=10) as client:
        for target in targets:
            result = await forward_deletion(
                engine, client, settings=settings, workspace_id=workspace_id,
                destination_id=target.id, subject=subject,
            )
            # result.outcome: delivered (done), retry (call again later), failed (give up,
            # result.error says why); result.exchange: the last request and response, masked.

The connector is built the way the delivery lanes build it (the registry's connector for the
destination's kind, its stored config with secrets opened by the workspace's secret box), and
its result is masked by the same :class:`~headwater.destinations.Redactor` before it is
returned, so the caller may store and show it as is.
"""

from __future__ import annotations

import httpx
import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.connectors import DeletionSubject, Outcome, SendResult, lookup
from headwater.delivery.lanes import shielded
from headwater.destinations import Redactor, connector_config, destinations_of, load_box
from headwater.errors import HeadwaterError
from headwater.settings import Settings
from headwater.storage import Transaction, transaction

__all__ = ["DeletingDestination", "deleting_destinations", "forward_deletion"]


class DeletingDestination(msgspec.Struct, frozen=True, kw_only=True):
    """A destination a person's deletion is forwarded to."""

    id: int
    name: str
    kind: str
    enabled: bool


async def deleting_destinations(tx: Transaction, *, workspace_id: int) -> list[DeletingDestination]:
    """Every destination of the workspace whose connector forwards deletions, by id, enabled or
    not: a disabled destination received the person's data while it was enabled and the vendor
    still holds it (disabling stops deliveries, not what was delivered). Destinations whose kind
    is no longer installed are left out (nothing could build their request). Read in the
    caller's transaction; nothing is written."""
    found = []
    for destination in await destinations_of(tx, workspace_id=workspace_id):
        connector = lookup(destination.kind)
        if connector is not None and connector.deletes:
            found.append(
                DeletingDestination(
                    id=destination.id,
                    name=destination.name,
                    kind=destination.kind,
                    enabled=destination.enabled,
                )
            )
    return found


async def forward_deletion(
    engine: AsyncEngine,
    client: httpx.AsyncClient,
    *,
    settings: Settings,
    workspace_id: int,
    destination_id: int,
    subject: DeletionSubject,
) -> SendResult:
    """Ask one destination's vendor to delete ``subject``, once; answer the masked result.

    ``engine``: the destination and the secret box are read in a short transaction of its own
    (committed before any request goes out, so no connection is held while the vendor answers;
    the box may store a generated key on first use, as the lanes' does). ``client``: the HTTP
    client the connector uses; its timeout applies. ``settings``: for ``secret_key``, which opens
    the config's sealed secrets. ``workspace_id``: the destination must be this workspace's.

    Never raises for what a destination or vendor does: a destination that no longer exists
    (or is another workspace's), a kind no longer installed, a stored config that no longer
    validates, or a connector that does not delete are permanent failures (``Outcome.FAILED``)
    saying so; a connector that raises is a retry. Example::

        result = await forward_deletion(
            engine, client, settings=settings, workspace_id=1, destination_id=7,
            subject=DeletionSubject(regulation_id="reg_1", user_ids=("u1",)),
        )
        if result.outcome is Outcome.RETRY: ...  # call again after result.retry_after or later
    """
    async with transaction(engine) as tx:
        found = await destinations_of(tx, workspace_id=workspace_id)
        destination = next((d for d in found if d.id == destination_id), None)
        box = await load_box(tx, settings.secret_key) if destination is not None else None
    if destination is None or box is None:
        return not_supported(f"no destination {destination_id} in this workspace")
    connector_type = lookup(destination.kind)
    if connector_type is None:
        return not_supported(f"no connector {destination.kind!r} is installed")
    try:
        config = connector_config(box, connector_type, destination)
    except HeadwaterError as error:  # the message names fields, never their values
        return not_supported(f"destination {destination_id}: {error}")
    connector = connector_type(config, client)
    try:
        return await shielded(Redactor.of(config), destination.kind, connector.delete(subject))
    finally:
        await connector.close()


def not_supported(reason: str) -> SendResult:
    """A permanent failure for a deletion that cannot be sent at all."""
    return SendResult(outcome=Outcome.FAILED, error=reason)
