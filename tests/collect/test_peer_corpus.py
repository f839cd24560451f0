"""Replay the peers' own tracking-API cases: Headwater answers each as Segment or RudderStack does.

The corpus (``../shared/peer-corpus/corpus.jsonl`` beside the repository, or the file named by
``HEADWATER_PEER_CORPUS``) holds requests taken from Segment's documentation and SDK tests and
RudderStack's gateway tests, each with what the peers answer; its README describes the format.
It is not part of this repository: without it these tests are skipped. Each case runs in a
workspace of its own (the peers' fixtures reuse message ids). A case passes when one listed
peer's answer matches: the same status class and, where the peer states it, the same fate of
each message (stored, a duplicate, or dropped, which Headwater records as a rejection).

Where neither peer's answer is one Headwater gives on purpose, the case is listed in
``DEVIATIONS`` with Headwater's documented answer (docs/api-compatibility.md), which is checked
instead.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.collect.helpers import Source, api, request
from tests.server import RunningServer

_ROOT = Path(__file__).resolve().parents[2]
_CORPUS = Path(
    os.environ.get("HEADWATER_PEER_CORPUS", _ROOT.parent / "shared/peer-corpus/corpus.jsonl")
)


DEVIATIONS: dict[str, dict[str, Any]] = {
    # One batch item over 32 KB: Segment refuses the whole batch (400), RudderStack stores both
    # (it has no per-event limit). Headwater keeps the event limit and rejects that item alone.
    "sd-http-batch-event-over-32kb": {
        "peer": "headwater",
        "status": 200,
        "stored": [False, True],
    },
}


def _cases() -> list[Any]:
    if not _CORPUS.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no corpus at {_CORPUS}"))]
    cases = [json.loads(line) for line in _CORPUS.read_text().splitlines() if line.strip()]
    return [pytest.param(case, id=case["id"]) for case in cases]


def _substitute(value: Any, keys: dict[str, str]) -> Any:
    text = json.dumps(value)
    for placeholder, key in keys.items():
        text = text.replace(placeholder, key)
    return json.loads(text)


def _set(target: Any, path: list[Any], value: Any) -> None:
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


def _body(spec: dict[str, Any], keys: dict[str, str]) -> bytes:
    if "raw" in spec:
        raw = spec["raw"]
        for placeholder, key in keys.items():
            raw = raw.replace(placeholder, key)
        return str(raw).encode()
    if "generate" in spec:
        return json.dumps(_generate(_substitute(spec["generate"], keys))).encode()
    return json.dumps(_substitute(spec["body"], keys)).encode()


def _generate(rule: dict[str, Any]) -> Any:
    if rule["kind"] == "pad":
        body = rule["base"]
        _set(body, rule["path"], "a" * rule["length"])
        return body
    items = []
    for _ in range(rule["count"]):
        item = json.loads(json.dumps(rule["item"]))
        if rule.get("pad"):
            _set(item, rule["pad"]["path"], "a" * rule["pad"]["length"])
        items.append(item)
    return {"batch": items, **rule.get("envelope", {})}


def _headers(spec: dict[str, Any], keys: dict[str, str]) -> dict[str, str]:
    headers = dict(spec.get("headers") or {})
    auth = _substitute(spec.get("auth"), keys)
    if auth:
        user = f"{auth['basic']}:" if "basic" in auth else auth["basic_nocolon"]
        headers["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()
    if spec.get("gzip"):
        headers["Content-Encoding"] = "gzip"
    return headers


def _matches(outcome: dict[str, Any], status: int, delta: dict[str, int]) -> bool:
    if outcome["status"] // 100 != status // 100:
        return False
    stored = outcome.get("stored")
    if stored is None or status // 100 != 2:
        return True
    if any(fate is None for fate in stored):
        return True
    return delta == {
        "accepted": stored.count(True),
        "duplicates": stored.count("dup"),
        "rejected": stored.count(False),
    }


@pytest.mark.parametrize("case", _cases())
def test_headwater_answers_as_a_peer_does(case: dict[str, Any], shared: RunningServer) -> None:
    slug, write_key, source_id = shared.new_workspace()
    source = Source(shared, source_id, write_key, slug)
    disabled = api(
        shared,
        "POST",
        f"/api/v1/workspaces/{slug}/sources",
        json={"name": f"{slug}-off", "write_key": f"{write_key}-off"},
    )
    api(
        shared,
        "PATCH",
        f"/api/v1/workspaces/{slug}/sources/{disabled['id']}",
        json={"enabled": False},
    )
    off = Source(shared, disabled["id"], disabled["write_key"], slug)
    keys = {"{{WRITE_KEY}}": write_key, "{{DISABLED_KEY}}": disabled["write_key"]}
    for number, spec in enumerate(case["requests"]):
        before = [source.totals(), off.totals()]
        body = _body(spec, keys)
        response = request(
            spec["method"],
            shared.url + _substitute(spec["path"], keys),
            content=gzip.compress(body) if spec.get("gzip") else body,
            headers=_headers(spec, keys),
        )
        after = [source.totals(), off.totals()]
        delta = {
            key: sum(a[key] - b[key] for a, b in zip(after, before, strict=True))
            for key in after[0]
        }
        outcomes = [DEVIATIONS[case["id"]]] if case["id"] in DEVIATIONS else spec["outcomes"]
        peers = [(o["peer"], o["status"], o.get("stored")) for o in outcomes]
        assert any(_matches(o, response.status_code, delta) for o in outcomes), (
            f"request {number}: Headwater answered {response.status_code} {response.text[:200]} "
            f"with {delta}; the peers: {peers}"
        )
