"""Identity rules per workspace: the management API and CLI store them, the running processor
follows them (within 5 s of a change: it caches a workspace's rules that long)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from headwater.identity import Rules
from tests.cli.conftest import Finished, cli_for
from tests.profiles.conftest import Space, ids

_TTL = 5.0  # ProfileStage's cache of a workspace's rules


def _ts(second: int) -> str:
    return f"2026-06-01T09:00:{second:02d}Z"


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _put(space: Space, rules: Any) -> Any:
    response = space.admin("PUT", "/identity-rules", json=rules)
    assert response.status_code == 200, response.text
    return response.json()


def _profile_of(space: Space, identifier: str) -> str:
    found = space.search(identifier=identifier)
    assert len(found) == 1, (identifier, found)
    return found[0]


def test_get_answers_defaults_and_put_upserts(space: Space) -> None:
    response = space.admin("GET", "/identity-rules")
    assert response.status_code == 200, response.text
    assert response.json() == _json(Rules.default().to_dict())

    stored = _put(space, {"limits": {"email": {"max": 1, "window": 86400}}})
    assert stored["limits"]["email"] == {"max": 1, "window": "P1D"}
    # limits are laid over the defaults: user_id keeps its limit of 1
    assert stored["limits"]["user_id"] == {"max": 1, "window": None}
    assert stored["priorities"] == {"user_id": 1, "email": 2}
    assert stored["blocked"] == list(Rules.default().blocked)
    assert space.admin("GET", "/identity-rules").json() == stored

    again = _put(
        space,
        {
            "blocked": ["^test$"],
            "trait_identifiers": {"phone": "phone"},
            "priorities": {"phone": 3},
        },
    )
    assert again == space.admin("GET", "/identity-rules").json()
    assert again["blocked"] == ["^test$"]
    assert again["trait_identifiers"] == {"phone": "phone"}
    assert again["limits"] == _json(Rules.default().to_dict())["limits"]  # a PUT replaces
    assert Rules.from_dict(again) == Rules(
        blocked=("^test$",),
        trait_identifiers={"phone": "phone"},
        priorities={"user_id": 1, "email": 2, "phone": 3},
    )


def test_bad_rules_are_400s_with_the_reason(space: Space) -> None:
    before = space.admin("GET", "/identity-rules").json()
    cases: list[tuple[Any, str]] = [
        ({"limits": {"email": {"max": 0}}}, "limits.email"),
        ({"blocked": ["(unclosed"]}, "not a valid regex"),
        ({"max_merges": -1}, "max_merges"),
        ({"trait_identifiers": {"phone": ""}}, "identifier type"),
        ({"priorities": {"email": "high"}}, "priorities"),
        ({"no_such_rule": 1}, "no_such_rule"),
        ([1, 2], "must be an object"),
    ]
    for rules, reason in cases:
        response = space.admin("PUT", "/identity-rules", json=rules)
        assert response.status_code == 400, (rules, response.text)
        body = response.json()
        assert body["code"] == "invalid_rules", body
        assert reason in body["message"], (rules, body)
    response = space.admin(
        "PUT",
        "/identity-rules",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"
    assert space.admin("GET", "/identity-rules").json() == before  # nothing stored
    with space.server.admin() as client:
        missing = client.get("/api/v1/workspaces/no-such-workspace/identity-rules")
    assert missing.status_code == 404
    assert missing.json()["code"] == "workspace_not_found"
    anonymous = space.admin("GET", "/identity-rules", headers={"Authorization": "Bearer nope"})
    assert anonymous.status_code == 401


def _second_email(space: Space, prefix: str) -> None:
    """One browser that identifies with one email, then with another."""
    space.send(
        {
            "type": "identify",
            "anonymousId": f"{prefix}-browser",
            "traits": {"email": f"{prefix}-first@example.com"},
            "messageId": f"{prefix}-1",
            "timestamp": _ts(1),
        },
        {
            "type": "identify",
            "anonymousId": f"{prefix}-browser",
            "traits": {"email": f"{prefix}-second@example.com"},
            "messageId": f"{prefix}-2",
            "timestamp": _ts(2),
        },
    )
    space.eventually(f"email:{prefix}-second@example.com/events", lambda b: len(b["data"]) >= 1)


def test_rules_set_before_events_shape_the_profiles(space: Space) -> None:
    control = Space.create(space.server)  # Segment's defaults
    rules = {
        "limits": {"email": {"max": 1}},
        "blocked": [*Rules.default().blocked, "^blocked@example\\.com$"],
        "trait_identifiers": {"phone": "phone"},
    }
    _put(space, rules)
    for target in (space, control):
        _second_email(target, "se")
        target.send(
            {
                "type": "identify",
                "userId": "bv",
                "traits": {"email": "Blocked@Example.com", "phone": "+47 555 01 234"},
                "messageId": "bv-1",
                "timestamp": _ts(3),
            }
        )

    # email limit 1: the second email drops the weaker anonymous_id and makes a new profile
    first = _profile_of(space, "email:se-first@example.com")
    second = _profile_of(space, "email:se-second@example.com")
    assert first != second
    assert ids(space.profile_api("email:se-second@example.com/external_ids").json()) == {
        ("email", "se-second@example.com")
    }
    assert _profile_of(control, "email:se-first@example.com") == _profile_of(
        control, "email:se-second@example.com"
    )

    # a blocked value never becomes an identifier; the phone trait becomes one
    body = space.eventually("user_id:bv/external_ids", lambda b: len(b["data"]) >= 2)
    assert ids(body) == {("user_id", "bv"), ("phone", "+47 555 01 234")}
    assert space.search(value="blocked@example.com") == []
    assert space.profile_api("phone:+47 555 01 234/traits").json()["traits"]["email"] == (
        "Blocked@Example.com"
    )
    controlled = control.eventually("user_id:bv/external_ids", lambda b: len(b["data"]) >= 2)
    assert ids(controlled) == {("user_id", "bv"), ("email", "blocked@example.com")}


def test_a_change_applies_to_events_processed_within_5_s(space: Space) -> None:
    space.send(
        {
            "type": "identify",
            "anonymousId": "ch-browser",
            "traits": {"email": "ch-first@example.com"},
            "messageId": "ch-1",
            "timestamp": _ts(1),
        }
    )
    space.eventually("email:ch-first@example.com/events", lambda b: len(b["data"]) == 1)
    # the processor has cached the defaults for this workspace by now
    _put(space, {"limits": {"email": {"max": 1}}})
    changed = time.monotonic()
    time.sleep(max(0.0, changed + _TTL + 0.3 - time.monotonic()))
    space.send(
        {
            "type": "identify",
            "anonymousId": "ch-browser",
            "traits": {"email": "ch-second@example.com"},
            "messageId": "ch-2",
            "timestamp": _ts(2),
        }
    )
    space.eventually("email:ch-second@example.com/events", lambda b: len(b["data"]) == 1)
    assert _profile_of(space, "email:ch-first@example.com") != _profile_of(
        space, "email:ch-second@example.com"
    )


def _cli(space: Space, tmp_path: Path, *args: str) -> Finished:
    cli = cli_for(space.server, tmp_path)
    return cli.run("identity", "rules", "--workspace", space.slug, "--json", *args)


def test_cli_prints_and_sets_rules(space: Space, tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.json"
    rules_file.write_text(json.dumps({"trait_identifiers": {"phone": "phone"}}))
    done = _cli(space, tmp_path, "--set", str(rules_file))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["trait_identifiers"] == {"phone": "phone"}
    assert space.admin("GET", "/identity-rules").json() == json.loads(done.stdout)

    printed = _cli(space, tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == json.loads(done.stdout)

    rules_file.write_text(json.dumps({"limits": {"email": {"max": 0}}}))
    refused = _cli(space, tmp_path, "--set", str(rules_file))
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["code"] == "invalid_rules"
    assert space.admin("GET", "/identity-rules").json() == json.loads(done.stdout)
