"""@segment/analytics-node (from npm, in ``tests/node``) against ``headwater serve``.

``tests/node/send.mjs`` makes the calls with the SDK and prints the requests it made, so the
test checks what the SDK sends as well as what Headwater stores: one ``POST {host}/v1/batch``
with Basic auth (``writeKey:``), ``writeKey`` and ``sentAt`` in the body, and messages carrying
``context.library`` and a top-level ``_metadata`` object.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.expect import (
    Call,
    Sdk,
    assert_deduplicated,
    assert_stored,
    duplicate_probe,
    sdk_calls,
)
from tests.server import RunningServer

pytestmark = pytest.mark.e2e

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
PACKAGE = NODE_DIR / "node_modules" / "@segment" / "analytics-node" / "package.json"


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed")
    assert PACKAGE.is_file(), "run `npm ci` in tests/node first (./scripts/test does it)"
    return path


@pytest.fixture(scope="module")
def node_sdk(node: str) -> Sdk:
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()
    return Sdk(
        library={
            "name": "@segment/analytics-node",
            "version": json.loads(PACKAGE.read_text())["version"],
        },
        extra={"_metadata": {"nodeVersion": version, "jsRuntime": "node"}},
        page_category_in_properties=True,
    )


def send(node: str, server: RunningServer, calls: list[Call]) -> dict[str, Any]:
    """Run the script; return what it reports: the requests made, the statuses, the errors."""
    result = subprocess.run(
        [node, "send.mjs", server.url, server.write_key],
        input=json.dumps(calls),
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=45,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_segment_node_sdk(node: str, node_sdk: Sdk, server: RunningServer) -> None:
    calls = sdk_calls("segment-node")
    started = datetime.now(UTC)
    report = send(node, server, calls)
    acked = datetime.now(UTC)

    assert report["errors"] == []
    assert report["responses"] == [200]
    [request] = report["requests"]
    assert request["method"] == "POST"
    assert request["url"] == f"{server.url}/v1/batch"
    basic = base64.b64encode(f"{server.write_key}:".encode()).decode()
    assert request["headers"]["Authorization"] == f"Basic {basic}"
    assert request["body"]["writeKey"] == server.write_key
    assert "sentAt" in request["body"]
    assert [message["messageId"] for message in request["body"]["batch"]] == [
        call["messageId"] for call in calls
    ]

    for call in calls:
        assert_stored(server, call, node_sdk, sent_after=started, acked_before=acked)

    probe = duplicate_probe("segment-node", attempt=1)
    assert send(node, server, [probe])["responses"] == [200]
    assert send(node, server, [duplicate_probe("segment-node", attempt=2)])["responses"] == [200]
    assert_deduplicated(server, probe)
