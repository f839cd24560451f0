"""``headwater sources webhook`` against a running server: a source created from a preset with
its URL printed, a test run of a sample body, a signed request seen in ``requests``, and a bad
configuration file refused in plain words."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.cli.conftest import Cli
from tests.hooks.senders import SENDERS
from tests.server import RunningServer


def test_create_test_send_and_list_requests(
    cli: Cli, server: RunningServer, tmp_path: Path
) -> None:
    made = cli.run(
        "sources",
        "webhook",
        "create",
        "stripe-cli",
        "--preset",
        "stripe",
        "--secret",
        "whsec_cli",
        "--json",
    )
    assert made.returncode == 0, made.stderr
    hook = made.json()["hook"]
    assert "whsec_cli" not in made.stdout
    source = str(hook["source_id"])

    signed = SENDERS["stripe"]("whsec_cli", "", int(time.time()))
    sample = tmp_path / "event.json"
    sample.write_bytes(signed.body)
    tried = cli.run("sources", "webhook", "test", source, "--body", str(sample), "--json")
    assert tried.returncode == 0, tried.stderr
    assert tried.json()["messages"][0]["event"] == "invoice.paid"

    sent = httpx.post(f"{server.url}{hook['path']}", content=signed.body, headers=signed.headers)
    assert sent.status_code == 200, sent.text
    listed = cli.run("sources", "webhook", "requests", source, "--json")
    assert [r["outcome"] for r in listed.json()] == ["stored"]

    bad = tmp_path / "bad.json"
    bad.write_text('{"auth": {"type": "none"}, "rules": [{"type": "purchase"}]}')
    refused = cli.run("sources", "webhook", "configure", source, "--config", str(bad))
    assert refused.returncode != 0
    assert "rules.0.type" in refused.stderr
