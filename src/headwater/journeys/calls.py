"""Journeys' webhook calls: an outbox written with the step that makes the call, and the caller
that sends them.

>>> caller = Caller(engine)          # wired in runtime.py
>>> await caller.run(stop)

The runner writes a call in the transaction of the instance's step and leaves the instance
waiting. The caller leases due calls (``FOR UPDATE SKIP LOCKED``, then ``next_at`` pushed past
the request's timeout, committed), sends each request with the header ``Idempotency-Key:
hwj-{instance}-{step}``, and settles it in one transaction: the call deleted and the instance
woken through ``out`` (a 2xx answer) or ``error`` (a 4xx other than 408 and 429, or the last
attempt failing), with the answer as the step's note; a failure worth retrying (a 5xx, 408, 429,
no answer) is tried again later, up to :data:`ATTEMPTS` times, backing off.

Sent at least once: a crash after the request and before the settling commits sends it again
once the lease ends, with the same idempotency key, for the receiver to drop. A call of an
instance that moved on or ended meanwhile (an exit rule, a live edit) is dropped unsent.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.audiences import decode_json, encode_json
from headwater.journeys.decide import call_headers
from headwater.journeys.instances import Woken, wake
from headwater.storage import STORAGE_ERRORS, Transaction, begin
from headwater.supervisor import Health, first_set

__all__ = ["ATTEMPTS", "Caller", "queue"]

logger = logging.getLogger(__name__)

ATTEMPTS: Final = 5
TIMEOUT: Final = 10.0
"""Seconds a webhook has to answer."""
_LEASE: Final = timedelta(seconds=TIMEOUT * 3)
_RETRY_STATUSES: Final = frozenset({408, 429})


async def queue(
    tx: Transaction, instance_id: int, step: int, node_id: str, request: dict[str, Any]
) -> None:
    """The call of an instance's step, due now (once per step: a step taken again after a
    crash finds it there)."""
    await tx.driver.execute(
        "INSERT INTO journey_calls (instance_id, step, node_id, request, next_at)"
        " VALUES ($1, $2, $3, $4::text::jsonb, now()) ON CONFLICT DO NOTHING",
        instance_id,
        step,
        node_id,
        encode_json(request),
    )


@dataclass(frozen=True)
class _Call:
    id: int
    instance_id: int
    node_id: str
    attempts: int
    request: dict[str, Any]


@dataclass(frozen=True)
class _Answer:
    """How a call went: ``port`` to go on by (None: try again later), and a note."""

    port: str | None
    note: str


class Caller:
    def __init__(self, engine: AsyncEngine, *, batch: int = 50, tick: float = 0.2) -> None:
        self.engine, self.batch, self.tick = engine, batch, tick

    async def turn(self) -> int:
        """Send the calls due now; return how many were leased."""
        leased = await self._lease()
        if not leased:
            return 0
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
            answers = await asyncio.gather(*(_send(client, call) for call in leased))
        async with self.engine.begin() as connection:
            tx = await begin(connection)
            for call, answer in zip(leased, answers, strict=True):
                await self._settle(tx, call, answer)
        return len(leased)

    async def _lease(self) -> list[_Call]:
        async with self.engine.begin() as connection:
            tx = await begin(connection)
            # calls of instances no longer waiting at their node are dropped unsent
            await tx.driver.execute(
                "DELETE FROM journey_calls c WHERE c.next_at <= now() AND NOT EXISTS"
                " (SELECT 1 FROM journey_instances i WHERE i.id = c.instance_id"
                "  AND i.state = 'waiting' AND i.node_id = c.node_id)"
            )
            rows = await tx.driver.fetch(
                "UPDATE journey_calls SET next_at = now() + $2::interval WHERE id IN"
                " (SELECT id FROM journey_calls WHERE next_at <= now() ORDER BY next_at"
                "  LIMIT $1 FOR UPDATE SKIP LOCKED)"
                " RETURNING id, instance_id, node_id, attempts, request::text",
                self.batch,
                _LEASE,
            )
        return [_Call(r[0], r[1], r[2], r[3], decode_json(r[4])) for r in rows]

    async def _settle(self, tx: Transaction, call: _Call, answer: _Answer) -> None:
        attempts = call.attempts + 1
        port = answer.port
        if port is None and attempts >= ATTEMPTS:
            port = "error"
        if port is None:
            await tx.driver.execute(
                "UPDATE journey_calls SET attempts = $2, last_error = $3,"
                " next_at = now() + $4::interval WHERE id = $1",
                call.id,
                attempts,
                answer.note,
                timedelta(seconds=2 ** (attempts - 1)),
            )
            return
        await tx.driver.execute("DELETE FROM journey_calls WHERE id = $1", call.id)
        note = answer.note if attempts == 1 else f"{answer.note} (attempt {attempts})"
        await wake(tx, [Woken(call.instance_id, call.node_id, port, note)])

    async def run(self, stop: asyncio.Event, health: Health | None = None) -> None:
        """Send calls until ``stop``. A database outage is logged, reported to ``health`` and
        retried."""
        health = health if health is not None else Health("journey-calls")
        while not stop.is_set():
            leased = 0
            try:
                leased = await self.turn()
            except STORAGE_ERRORS as error:
                health.failed(error)
                logger.warning("journey calls failed; retrying", exc_info=True)
            else:
                health.ok()
            if leased < self.batch:
                await first_set(stop, seconds=self.tick)


async def _send(client: httpx.AsyncClient, call: _Call) -> _Answer:
    request = call.request
    headers = call_headers(request)
    try:
        response = await client.request(
            request["method"], request["url"], content=encode_json(request["body"]), headers=headers
        )
    except httpx.HTTPError as error:
        return _Answer(None, f"no answer: {type(error).__name__}")
    note = f"HTTP {response.status_code}"
    if response.is_success:
        return _Answer("out", note)
    excerpt = response.text[:200]
    note = f"{note}: {excerpt}" if excerpt else note
    if response.status_code >= 500 or response.status_code in _RETRY_STATUSES:
        return _Answer(None, note)
    return _Answer("error", note)
