"""Processes on the JetStream log: the environment that puts them on the session's NATS server."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def on_jetstream(nats_urls: list[str], tmp_path: Path) -> dict[str, str]:
    """The environment of processes on the session's NATS server, a stream for this test."""
    return {
        "HEADWATER_EVENT_LOG": "nats",
        "HEADWATER_NATS_URLS": ",".join(nats_urls),
        "HEADWATER_NATS_STREAM": f"E2E_{tmp_path.name.replace('-', '_')[-40:]}",
    }
