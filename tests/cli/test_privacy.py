"""``headwater privacy`` against a running server: regulate, list, show, suppressions."""

from __future__ import annotations

import time

from tests.cli.conftest import Cli


def test_regulate_list_show_and_suppressions(cli: Cli) -> None:
    created = cli.run(
        "privacy", "regulate", "--type", "SUPPRESS_ONLY", "--user-id", "u-cli", "--json"
    )
    assert created.returncode == 0, created.stderr
    regulate_id = created.json()["regulateId"]
    both = cli.run(
        "privacy", "regulate", "--type", "SUPPRESS_ONLY", "--user-id", "u", "--anonymous-id", "a"
    )
    assert both.returncode != 0
    listed = cli.run("privacy", "regulations", "--json")
    assert [r["id"] for r in listed.json()] == [regulate_id]
    table = cli.run("privacy", "regulations")
    assert regulate_id in table.stdout
    deadline = time.monotonic() + 60
    while cli.run("privacy", "regulation", regulate_id, "--json").json()["overallStatus"] != (
        "FINISHED"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    asked = cli.run("privacy", "suppressions", "--subject-id", "u-cli", "--json")
    assert asked.json() == [{"subjectType": "USER_ID", "subjectId": "u-cli"}]
    every = cli.run("privacy", "suppressions", "--json").json()
    assert [row["subjectId"].startswith("hmac-sha256:") for row in every] == [True]
