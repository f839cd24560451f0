"""Fixtures for connector tests: a recording server and a client with a short timeout."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.destinations.sink import Sink

TIMEOUT = 0.5
"""The client's timeout in seconds: a Reply delayed longer provokes a transport failure."""


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink() as running:
        yield running
    assert running.errors == [], running.errors


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=TIMEOUT) as shared:
        yield shared
