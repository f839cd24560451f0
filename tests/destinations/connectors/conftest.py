"""Fixtures for connector tests: a recording server and a client with a short timeout."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import httpx
import pytest

from headwater.connectors.base import Connector, Event, SendResult
from headwater.destinations.redact import Redactor
from tests.destinations.sink import Sink

TIMEOUT = 0.5
"""The ``impatient`` client's timeout in seconds: a Reply delayed longer provokes a transport
failure."""
PATIENT = 10.0
"""The ``client``'s: far above any answer of the local sink, even on a loaded machine (half a
second was once exceeded late in a full run, a delivery then retried as if timed out)."""


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink() as running:
        yield running
    assert running.errors == [], running.errors


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=PATIENT) as shared:
        yield shared


@pytest.fixture
async def impatient() -> AsyncIterator[httpx.AsyncClient]:
    """A client that gives up after :data:`TIMEOUT`, for the tests of a slow answer."""
    async with httpx.AsyncClient(timeout=TIMEOUT) as shared:
        yield shared


async def shown(connector: Connector[Any], events: Sequence[Event]) -> SendResult:
    """``connector.send(events)`` as the delivery engine stores and shows it: masked by the
    config's :class:`~headwater.destinations.redact.Redactor`."""
    return Redactor.of(connector.config).result(await connector.send(events))
