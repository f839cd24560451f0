"""``headwater pii`` against a running server: rules added, listed, changed, tested, removed,
and the inbox."""

from __future__ import annotations

import json

from tests.cli.conftest import Cli


async def test_pii_rules_from_the_command_line(cli: Cli) -> None:
    (cli.cwd / "message.json").write_text(
        json.dumps(
            {
                "type": "track",
                "userId": "u1",
                "event": "E",
                "properties": {"email": "a@b.co", "iban": "DE89370400440532013000"},
            }
        )
    )
    hashed, bad = await cli.run_all(
        ["pii", "add", "--path", "properties.email", "--action", "hash", "--json"],
        ["pii", "add", "--key", "([", "--action", "drop"],
    )
    rule = hashed.json()
    assert (rule["path"], rule["action"]) == ("properties.email", "hash")
    assert bad.returncode != 0
    assert "key" in bad.stderr + bad.stdout
    added = cli.run("pii", "add", "--detector", "iban", "--action", "redact", "--json").json()
    changed = cli.run("pii", "update", str(rule["id"]), "--action", "drop", "--json").json()
    assert changed["action"] == "drop"
    tested, listed, inbox = await cli.run_all(
        ["pii", "test", "message.json", "--json"],
        ["pii", "list", "--json"],
        ["pii", "inbox", "--json"],
    )
    result = tested.json()
    assert "email" not in result["message"]["properties"]
    assert result["message"]["properties"]["iban"] == "[redacted]"
    assert {r["id"] for r in listed.json()} >= {rule["id"], added["id"]}
    assert isinstance(inbox.json(), list)
    dismissed = cli.run("pii", "dismiss", "traits.nickname", "--json").json()
    assert dismissed == {"path": "traits.nickname", "dismissed": True}
    classified = cli.run("pii", "classify", "traits.phone", "--action", "mask", "--json").json()
    assert classified["path"] == "traits.phone"
    for rule_id in (rule["id"], added["id"], classified["id"]):
        assert cli.run("pii", "remove", str(rule_id), "--json").json()["deleted"] is True
    assert cli.run("pii", "list", "--json").json() == []
