"""Where a regulation's deletion meets the destinations, and where erasing plugs in.

The regulation job (``privacy.job``) erases a person from Headwater's stores with an
:data:`Eraser` and forwards the deletion to each destination a :class:`Forwarder` names. Both
are handed to the job by the composition root (``runtime.py``); this module holds their
shapes, and a forwarder with no destination (:data:`NO_FORWARDING`, for tests and for a job
that must not reach vendors); ``privacy.destinations`` has the delivery engine's.

>>> outcome = await forwarder.forward(
...     regulation_id="r", workspace_id=1, destination_id=3, person=person)
>>> outcome.status          # FINISHED, RETRY (transient: again later), FAILED or NOT_SUPPORTED
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal, Protocol

import msgspec

from headwater.privacy.person import Person
from headwater.storage import Transaction

__all__ = ["NO_FORWARDING", "Eraser", "Forwarded", "Forwarder"]

Eraser = Callable[[Transaction, Person], Awaitable[dict[str, int]]]
"""Remove a person from every store in the caller's transaction (idempotent); rows removed
per store. Its precondition, that the processor has processed every event appended before the
call, is the job's to meet."""


class Forwarded(msgspec.Struct, frozen=True, kw_only=True):
    """One destination's answer to a deletion request."""

    status: Literal["FINISHED", "RETRY", "FAILED", "NOT_SUPPORTED"]
    error: str = ""


class Forwarder(Protocol):
    async def destinations(self, tx: Transaction, workspace_id: int) -> list[tuple[int, str]]:
        """The workspace's destinations that can delete a person: (id, name)."""

    async def forward(
        self, *, regulation_id: str, workspace_id: int, destination_id: int, person: Person
    ) -> Forwarded:
        """Send one deletion request for ``person`` to the destination (its error text holds
        none of the person's identifiers: it is stored)."""


class _NoForwarding:
    async def destinations(self, tx: Transaction, workspace_id: int) -> list[tuple[int, str]]:
        return []

    async def forward(
        self, *, regulation_id: str, workspace_id: int, destination_id: int, person: Person
    ) -> Forwarded:
        return Forwarded(status="NOT_SUPPORTED", error="no destination can delete")


NO_FORWARDING: Forwarder = _NoForwarding()
