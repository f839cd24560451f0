"""Accounts: group calls build account profiles with the group's traits and link users to them;
users are never matched on group_id."""

from __future__ import annotations

from typing import Any

from tests.profiles.conftest import Space, ids


def _ts(minute: int) -> str:
    return f"2026-07-01T12:{minute:02d}:00Z"


def _group(user: dict[str, str], group: str, message_id: str, minute: int, **traits: Any) -> Any:
    return {
        "type": "group",
        **user,
        "groupId": group,
        "traits": traits,
        "messageId": message_id,
        "timestamp": _ts(minute),
    }


def _linked(body: dict[str, Any]) -> list[set[tuple[str, str]]]:
    return [{(i["type"], i["id"]) for i in link["external_ids"]} for link in body["data"]]


def test_a_group_call_builds_an_account_and_links_the_user(space: Space) -> None:
    space.send(
        {
            "type": "identify",
            "userId": "ann",
            "traits": {"name": "Ann"},
            "messageId": "a-0",
            "timestamp": _ts(0),
        },
        _group({"userId": "ann"}, "acme", "a-1", 1, name="Acme", plan="enterprise"),
    )
    account = space.eventually(
        "group_id:acme/traits", lambda b: b["traits"] != {}, collection="accounts"
    )
    assert account["traits"] == {"name": "Acme", "plan": "enterprise"}
    external = space.profile_api("group_id:acme/external_ids", collection="accounts").json()
    assert ids(external) == {("group_id", "acme")}
    assert external["data"][0]["collection"] == "accounts"

    # the group's traits are the account's, not the user's
    assert space.profile_api("user_id:ann/traits").json()["traits"] == {"name": "Ann"}
    assert _linked(space.eventually("user_id:ann/links", lambda b: len(b["data"]) == 1)) == [
        {("group_id", "acme")}
    ]
    # group_id is an account identifier: no user profile answers to it
    assert space.profile_api("group_id:acme/traits").status_code == 404

    [account_id] = space.search(identifier="group_id:acme", collection="accounts")
    detail = space.admin("GET", f"/profiles/{account_id}").json()
    assert detail["kind"] == "account"
    assert [e["message_id"] for e in detail["events"]] == ["a-1"]
    assert [link["profile_id"] for link in detail["links"]] == space.search(
        identifier="user_id:ann"
    )


def test_two_users_of_one_group_stay_two_profiles_linked_to_one_account(space: Space) -> None:
    space.send(
        _group({"userId": "bea"}, "initech", "b-1", 1, name="Initech"),
        _group({"userId": "cy"}, "initech", "b-2", 2, employees=50),
        _group({"anonymousId": "visitor"}, "initech", "b-3", 3),
    )
    body = space.eventually(
        "group_id:initech/links", lambda b: len(b["data"]) == 3, collection="accounts"
    )
    assert sorted(_linked(body), key=sorted) == sorted(
        [{("user_id", "bea")}, {("user_id", "cy")}, {("anonymous_id", "visitor")}], key=sorted
    )
    users = {
        *space.search(identifier="user_id:bea"),
        *space.search(identifier="user_id:cy"),
        *space.search(identifier="anonymous_id:visitor"),
    }
    assert len(users) == 3
    for lookup in ("user_id:bea", "user_id:cy", "anonymous_id:visitor"):
        assert _linked(space.profile_api(f"{lookup}/links").json()) == [{("group_id", "initech")}]
        assert ("group_id", "initech") not in ids(
            space.profile_api(f"{lookup}/external_ids").json()
        )
    traits = space.profile_api("group_id:initech/traits", collection="accounts").json()
    assert traits["traits"] == {"name": "Initech", "employees": 50}
    assert len(space.search(identifier="group_id:initech", collection="accounts")) == 1


def test_account_traits_are_last_write_wins_by_timestamp(space: Space) -> None:
    space.send(_group({"userId": "dee"}, "globex", "g-2", 20, plan="pro"))
    space.eventually(
        "group_id:globex/traits", lambda b: b["traits"] == {"plan": "pro"}, collection="accounts"
    )
    space.send(_group({"userId": "dee"}, "globex", "g-1", 10, plan="free", seats=5))
    body = space.eventually(
        "group_id:globex/traits", lambda b: "seats" in b["traits"], collection="accounts"
    )
    assert body["traits"] == {"plan": "pro", "seats": 5}


def test_a_user_in_two_accounts_and_links_surviving_a_merge(space: Space) -> None:
    space.send(
        _group({"anonymousId": "eve-web"}, "umbrella", "e-1", 1, name="Umbrella"),
        {
            "type": "identify",
            "userId": "eve",
            "anonymousId": "eve-phone",
            "messageId": "e-2",
            "timestamp": _ts(2),
        },
        _group({"userId": "eve"}, "hooli", "e-3", 3, name="Hooli"),
    )
    space.eventually("user_id:eve/links", lambda b: len(b["data"]) == 1)
    space.eventually("anonymous_id:eve-web/links", lambda b: len(b["data"]) == 1)
    # eve logs in on the web: the anonymous profile (in umbrella) merges into hers
    space.send(
        {
            "type": "identify",
            "userId": "eve",
            "anonymousId": "eve-web",
            "messageId": "e-4",
            "timestamp": _ts(4),
        }
    )
    body = space.eventually("user_id:eve/links", lambda b: len(b["data"]) == 2)
    assert sorted(_linked(body), key=sorted) == [
        {("group_id", "hooli")},
        {("group_id", "umbrella")},
    ]
    umbrella = space.profile_api("group_id:umbrella/links", collection="accounts").json()
    assert _linked(umbrella) == [
        {("user_id", "eve"), ("anonymous_id", "eve-web"), ("anonymous_id", "eve-phone")}
    ]


def test_blocked_group_ids_make_no_account_by_default_and_by_workspace_rule(space: Space) -> None:
    rules = space.admin("GET", "/identity-rules").json()
    rules["blocked"] = [*rules["blocked"], "test-.*"]  # matched against the whole value
    assert space.admin("PUT", "/identity-rules", json=rules).status_code == 200
    space.send(
        _group({"userId": "bo"}, "null", "b-1", 1, name="Nobody"),
        _group({"userId": "bo"}, "test-acme", "b-2", 2, name="Test"),
        _group({"userId": "bo"}, "globex", "b-3", 3, name="Globex"),
    )
    space.eventually("user_id:bo/links", lambda b: len(b["data"]) == 1)
    assert _linked(space.profile_api("user_id:bo/links").json()) == [{("group_id", "globex")}]
    assert space.search(collection="accounts", identifier="group_id:globex")
    for blocked in ("null", "test-acme"):
        assert not space.search(collection="accounts", identifier=f"group_id:{blocked}")
        response = space.profile_api(f"group_id:{blocked}/traits", collection="accounts")
        assert response.status_code == 404
