"""The regulation job's :class:`~headwater.privacy.forward.Forwarder` over the delivery
engine: the workspace's destinations whose connector deletes (``delivery.deleting_destinations``,
disabled ones too: they still hold what they received) and one vendor deletion request per call
(``delivery.forward_deletion``).

An answer's error is stored with the regulation; the person's identifiers are cut out of it
first (a vendor may quote the id it could not delete), so that no table keeps them.
"""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.delivery import DeletionSubject, deleting_destinations, forward_deletion
from headwater.privacy.forward import Forwarded
from headwater.privacy.person import Person
from headwater.settings import Settings
from headwater.storage import Transaction

__all__ = ["DestinationForwarder"]

_OUTCOMES = {"delivered": "FINISHED", "retry": "RETRY", "failed": "FAILED"}


class DestinationForwarder:
    def __init__(self, engine: AsyncEngine, settings: Settings, *, timeout: float = 30.0) -> None:
        self._engine = engine
        self._settings = settings
        self._timeout = timeout

    async def destinations(self, tx: Transaction, workspace_id: int) -> list[tuple[int, str]]:
        found = await deleting_destinations(tx, workspace_id=workspace_id)
        return [(destination.id, destination.name) for destination in found]

    async def forward(
        self, *, regulation_id: str, workspace_id: int, destination_id: int, person: Person
    ) -> Forwarded:
        subject = DeletionSubject(
            regulation_id=regulation_id,
            user_ids=person.values("user_id"),
            anonymous_ids=person.values("anonymous_id"),
            emails=person.values("email"),
        )
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            result = await forward_deletion(
                self._engine,
                client,
                settings=self._settings,
                workspace_id=workspace_id,
                destination_id=destination_id,
                subject=subject,
            )
        status = _OUTCOMES[result.outcome.value]
        return Forwarded(status=status, error=_without(result.error or "", person))  # type: ignore[arg-type]


def _without(text: str, person: Person) -> str:
    """``text`` with every identifier value of ``person`` replaced by ``[identifier]``."""
    for value in sorted((value for _, value in person.identifiers), key=len, reverse=True):
        if value:
            text = text.replace(value, "[identifier]")
    return text
