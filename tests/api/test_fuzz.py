"""Every operation of the OpenAPI document, fuzzed by schemathesis against a real ``headwater
serve`` on a database of its own: no answer may be a 5xx, and each answer must match the schema
that the document declares for its status.

Cases per operation and generation mode (positive: valid by the schema; negative: not) come
from ``HEADWATER_FUZZ_EXAMPLES`` (default 15, under two minutes on two cores); raise it for a
deeper run: ``HEADWATER_FUZZ_EXAMPLES=200 .venv/bin/pytest tests/api/test_fuzz.py``. Failures are
collected over the whole run (not shrunk) and reported together, one line per operation and
status.
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import scratch_database
from tests.server import ADMIN_TOKEN, RunningServer, free_port, start_server

EXAMPLES = int(os.environ.get("HEADWATER_FUZZ_EXAMPLES", "15"))

# An endless stream: a case that opens it never returns. Its parameters are covered by
# tests/api/test_bad_input.py instead.
_SKIPPED = {("GET", "/api/v1/workspaces/{workspace}/sources/{source_id}/live")}


@pytest.fixture(scope="module")
async def fuzz_database_url(postgres_url: str) -> AsyncIterator[str]:
    async with scratch_database(postgres_url, "hw_fuzz") as url:
        yield url


@pytest.fixture(scope="module")
def fuzz_server(
    fuzz_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A server of its own: the fuzz disables sources and rewrites rules that other tests use.
    Every outgoing request (a destination the fuzz creates and tests) goes to a proxy on a
    closed local port, so the fuzz never reaches another host."""
    closed = f"http://127.0.0.1:{free_port()}"
    running = start_server(
        fuzz_database_url,
        Path(tmp_path_factory.mktemp("fuzz-server")),
        {"ALL_PROXY": closed, "HTTP_PROXY": closed, "HTTPS_PROXY": closed, "NO_PROXY": ""},
    )
    try:
        yield running
    finally:
        running.stop()


def _authorization(path: str) -> str:
    """The admin token, as the management API (bearer) or the Profile API (basic) takes it."""
    if path.startswith("/v1/spaces/"):
        return "Basic " + base64.b64encode(f"{ADMIN_TOKEN}:".encode()).decode()
    return f"Bearer {ADMIN_TOKEN}"


@dataclass
class _Tally:
    """What the fuzz saw: cases sent, 5xx answers, and one failure report per operation and
    status."""

    cases: int = 0
    server_errors: int = 0
    failures: dict[tuple[str, int], str] = field(default_factory=dict)


def _fuzz(
    operation: APIOperation,
    mode: schemathesis.GenerationMode,
    *,
    base_url: str,
    session: requests.Session,
    tally: _Tally,
) -> None:
    """Send ``EXAMPLES`` cases of ``operation`` in ``mode`` and check each answer."""
    headers = {"Authorization": _authorization(operation.path)}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=60)
        tally.cases += 1
        tally.server_errors += response.status_code >= 500
        try:
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance]
            )
        except FailureGroup as group:
            tally.failures.setdefault((operation.label, response.status_code), str(group)[:2000])

    try:
        call()
    except Unsatisfiable:
        # nothing to make invalid: an operation without parameters or body
        assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label


@pytest.mark.timeout(1800)
def test_no_operation_answers_a_server_error_or_breaks_its_schema(
    fuzz_server: RunningServer,
) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_server.url}/api/openapi.json")
    tally = _Tally()
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in _SKIPPED:
                continue
            for mode in schemathesis.GenerationMode:
                _fuzz(operation, mode, base_url=fuzz_server.url, session=session, tally=tally)

    print(f"fuzz: {tally.cases} cases, {tally.server_errors} answered 5xx")
    report = "\n\n".join(
        f"{label} -> {status}\n{text}" for (label, status), text in tally.failures.items()
    )
    assert not tally.failures, f"{len(tally.failures)} operation/status pairs failed:\n{report}"
