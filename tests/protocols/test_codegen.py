"""Generated tracking code: it type-checks (mypy, tsc), a type checker refuses calls that break
the plan, and its calls reach a running Headwater through the official Segment libraries."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from segment.analytics.client import Client

from headwater.protocols import generate, parse_plan
from tests.protocols.plans import WEB
from tests.server import RunningServer

PLAN = parse_plan(WEB)
ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "tests" / "node"
TSC = NODE_DIR / "node_modules" / ".bin" / "tsc"

PY_GOOD = """
from segment.analytics.client import Client  # type: ignore[import-untyped]

from tracking import Typewriter

typewriter = Typewriter(Client("key", send=False))
typewriter.order_completed(
    user_id="u1", order_id="o1", total=9.5, currency="EUR", items=[{"sku": "a", "qty": 2}]
)
typewriter.identify(user_id="u1", email="a@b.c", age=3)
typewriter.group(group_id="g1", anonymous_id="a1", plan="pro")
"""
PY_BAD = """
from tracking import SegmentClient, Typewriter

def calls(client: SegmentClient) -> None:
    typewriter = Typewriter(client)
    typewriter.order_completed(user_id="u1", order_id="o1", total="9.5")
    typewriter.order_completed(user_id="u1", order_id="o1", total=1, colour="red")
    typewriter.order_completed(user_id="u1", total=1)
    typewriter.order_completed(user_id="u1", order_id="o1", total=1, currency="GBP")
    typewriter.group(group_id="g", user_id="u", plan="gold")
"""


def mypy(directory: Path, *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *files],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_generated_python_type_checks_and_refuses_calls_off_the_plan(tmp_path: Path) -> None:
    (tmp_path / "tracking.py").write_text(generate(PLAN, "python", version=1))
    (tmp_path / "good.py").write_text(PY_GOOD)
    (tmp_path / "bad.py").write_text(PY_BAD)
    good = mypy(tmp_path, "tracking.py", "good.py")
    assert good.returncode == 0, good.stdout
    bad = mypy(tmp_path, "bad.py")
    assert bad.returncode == 1
    errors = [line for line in bad.stdout.splitlines() if ": error:" in line]
    lines = sorted({int(line.split(":")[1]) for line in errors})
    assert lines == [6, 7, 8, 9, 10], bad.stdout
    assert 'Unexpected keyword argument "colour"' in bad.stdout
    assert 'Missing named argument "order_id"' in bad.stdout


def _event(server: RunningServer, message_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    with server.admin() as api:
        while True:
            found = api.get(f"/api/v1/workspaces/default/events/{message_id}")
            if found.status_code == 200 or time.monotonic() > deadline:
                assert found.status_code == 200, found.text
                return found.json()["payload"]  # type: ignore[no-any-return]
            time.sleep(0.2)


def test_generated_python_calls_reach_headwater(server: RunningServer, tmp_path: Path) -> None:
    (tmp_path / "tracking_e2e.py").write_text(generate(PLAN, "python"))
    spec = importlib.util.spec_from_file_location("tracking_e2e", tmp_path / "tracking_e2e.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    errors: list[str] = []
    client = Client(
        server.write_key,
        host=server.url,
        max_retries=1,
        upload_interval=0.05,
        on_error=lambda error, batch: errors.append(repr(error)),
    )
    typewriter = module.Typewriter(client)
    typewriter.order_completed(
        user_id="u1", order_id="o1", total=9.5, items=[{"sku": "a"}], message_id="tw-py-1"
    )
    typewriter.identify(user_id="u1", email="a@b.c", message_id="tw-py-2")
    flusher = threading.Thread(target=client.flush, daemon=True)
    flusher.start()
    flusher.join(20)
    client.join()
    assert errors == []
    order = _event(server, "tw-py-1")
    assert (order["type"], order["event"]) == ("track", "Order Completed")
    assert order["properties"] == {"order_id": "o1", "total": 9.5, "items": [{"sku": "a"}]}
    assert _event(server, "tw-py-2")["traits"] == {"email": "a@b.c"}


TS_GOOD = """
import { Analytics } from '@segment/analytics-node'
import { Typewriter } from './tracking.js'

declare const process: { argv: string[] }  // without @types/node
const [host, writeKey] = process.argv.slice(2)
const analytics = new Analytics({ writeKey, host, flushAt: 2, maxRetries: 1 })
const typewriter = new Typewriter(analytics)
typewriter.orderCompleted(
  { userId: 'u1' },
  { order_id: 'o1', total: 9.5, currency: 'USD', items: [{ sku: 'a', qty: 1 }] },
  { messageId: 'tw-ts-1' },
)
typewriter.identify({ anonymousId: 'a1' }, { age: 3 }, { messageId: 'tw-ts-2' })
await analytics.closeAndFlush()
"""
TS_BAD = """
import { Analytics } from '@segment/analytics-node'
import { Typewriter } from './tracking.js'

const typewriter = new Typewriter(new Analytics({ writeKey: 'k' }))
typewriter.orderCompleted({ userId: 'u1' }, { order_id: 'o1', total: '9' })
typewriter.orderCompleted({ userId: 'u1' }, { order_id: 'o1', total: 1, colour: 'red' })
typewriter.orderCompleted({ userId: 'u1' }, { total: 1 })
typewriter.orderCompleted({}, { order_id: 'o1', total: 1 })
"""
TSCONFIG = {
    "compilerOptions": {
        "target": "es2022",
        "module": "nodenext",
        "moduleResolution": "nodenext",
        "strict": True,
        "skipLibCheck": True,
        "outDir": "out",
    },
    "files": ["tracking.ts", "main.ts"],
}


@pytest.fixture
def ts_dir() -> Iterator[Path]:
    """A directory inside tests/node, so that imports resolve to its node_modules."""
    if shutil.which("node") is None or not TSC.exists():
        pytest.skip("node or typescript is not installed (npm ci in tests/node)")
    directory = NODE_DIR / f".codegen-{uuid.uuid4().hex[:8]}"
    directory.mkdir()
    (directory / "tracking.ts").write_text(generate(PLAN, "typescript", version=1))
    (directory / "tsconfig.json").write_text(json.dumps(TSCONFIG))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def tsc(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TSC), "-p", str(directory), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_generated_typescript_refuses_calls_off_the_plan(ts_dir: Path) -> None:
    (ts_dir / "main.ts").write_text(TS_BAD)
    checked = tsc(ts_dir, "--noEmit")
    assert checked.returncode != 0
    lines = sorted(
        {
            int(line.split("(")[1].split(",")[0])
            for line in checked.stdout.splitlines()
            if "main.ts(" in line
        }
    )
    assert lines == [6, 7, 8, 9], checked.stdout


def test_generated_typescript_compiles_and_reaches_headwater(
    ts_dir: Path, server: RunningServer
) -> None:
    (ts_dir / "main.ts").write_text(TS_GOOD)
    checked = tsc(ts_dir, "--noEmit")
    assert checked.returncode == 0, checked.stdout
    compiled = tsc(ts_dir)
    assert compiled.returncode == 0, compiled.stdout
    ran = subprocess.run(
        ["node", str(ts_dir / "out" / "main.js"), server.url, server.write_key],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    order = _event(server, "tw-ts-1")
    assert order["event"] == "Order Completed"
    assert order["userId"] == "u1"
    assert order["properties"]["items"] == [{"sku": "a", "qty": 1}]
    assert order["context"]["library"]["name"] == "@segment/analytics-node"
    assert _event(server, "tw-ts-2")["traits"] == {"age": 3}
    assert httpx.get(f"{server.url}/health").status_code == 200
