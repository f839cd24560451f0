"""The Segment-shaped Profile API and the management API's profile views, against a running
server: shapes, paging, errors and auth as Segment documents them."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import httpx

from tests.profiles.conftest import Space, ids


def _ts(minute: int, second: int = 0) -> str:
    return f"2026-05-01T10:{minute:02d}:{second:02d}Z"


def _pages(
    space: Space, path: str, key: str, params: dict[str, Any], *, collection: str = "users"
) -> list[Any]:
    """Follow ``cursor.next`` from the first page until ``has_more`` is false; every page."""
    pages = []
    query = dict(params)
    for _ in range(100):
        response = space.profile_api(path, collection=collection, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["cursor"]["url"].endswith(f"/profiles/{path}")
        pages.append(body[key])
        if not body["cursor"]["has_more"]:
            assert body["cursor"]["next"] == ""
            return pages
        assert body["cursor"]["next"]
        query = {**params, "next": body["cursor"]["next"]}
    raise AssertionError("the cursor never ended")


def test_traits_include_limit_and_cursor_pages(space: Space) -> None:
    names = [f"t{n:02d}" for n in range(23)]
    space.send(
        {
            "type": "identify",
            "userId": "tr",
            "traits": {name: n for n, name in enumerate(names)},
            "messageId": "tr-1",
            "timestamp": _ts(0),
        }
    )
    space.eventually("user_id:tr/traits?limit=200", lambda b: len(b["traits"]) == len(names))
    first = space.profile_api("user_id:tr/traits").json()
    assert len(first["traits"]) == 10  # Segment's default limit
    assert first["cursor"]["has_more"] is True

    pages = _pages(space, "user_id:tr/traits", "traits", {"limit": 7})
    assert [len(page) for page in pages] == [7, 7, 7, 2]
    seen = [name for page in pages for name in page]
    assert sorted(seen) == names
    assert len(seen) == len(set(seen))
    assert {name: value for page in pages for name, value in page.items()} == {
        name: n for n, name in enumerate(names)
    }

    included = space.profile_api("user_id:tr/traits", params={"include": "t03,t17,missing"}).json()
    assert included["traits"] == {"t03": 3, "t17": 17}
    assert included["cursor"]["has_more"] is False
    paged = _pages(space, "user_id:tr/traits", "traits", {"include": "t05,t01,t09", "limit": 2})
    assert paged == [{"t01": 1, "t05": 5}, {"t09": 9}]


def _computation(space: Space, route: str, key: str, definition: dict[str, Any]) -> None:
    made = space.admin("POST", route, json={"key": key, "name": key, "definition": definition})
    assert made.status_code == 201, made.text


def test_traits_carry_computed_traits_and_audiences_by_key(space: Space) -> None:
    """As Segment's: a computed trait by its key, an audience as a boolean (false once left);
    ``class`` keeps one of the two, ``include`` and ``limit`` apply to all traits."""
    counter = {"version": 1, "kind": "counter", "event": "Bulk Sent"}
    _computation(space, "/computed-traits", "bulk_count", counter)
    for key, condition in (
        (
            "power_bulk",
            {"type": "trait", "trait": "bulk_count", "operator": "at_least", "value": 5},
        ),
        ("on_trial", {"type": "trait", "trait": "plan", "operator": "equals", "value": "trial"}),
    ):
        _computation(space, "/audiences", key, {"version": 1, "condition": condition})
    identify = {"type": "identify", "userId": "pb", "traits": {"plan": "trial"}}
    space.send(
        {**identify, "messageId": "pb-0", "timestamp": _ts(8)},
        *(
            {"type": "track", "userId": "pb", "event": "Bulk Sent", "messageId": f"pb-{n}"}
            for n in range(1, 7)
        ),
    )
    everything = {"plan": "trial", "bulk_count": 6, "power_bulk": True, "on_trial": True}
    space.eventually("user_id:pb/traits", lambda b: b["traits"] == everything, timeout=60)

    space.send({**identify, "traits": {"plan": "pro"}, "messageId": "pb-7", "timestamp": _ts(9)})
    left = {**everything, "plan": "pro", "on_trial": False}
    space.eventually("user_id:pb/traits", lambda b: b["traits"] == left, timeout=60)

    def traits(**params: Any) -> Any:
        response = space.profile_api("user_id:pb/traits", params=params)
        assert response.status_code == 200, response.text
        return response.json()["traits"]

    assert traits(**{"class": "audience"}) == {"power_bulk": True, "on_trial": False}
    assert traits(**{"class": "computed_trait"}) == {"bulk_count": 6}
    assert traits(include="bulk_count,plan,power_bulk") == {
        "bulk_count": 6,
        "plan": "pro",
        "power_bulk": True,
    }
    pages = _pages(space, "user_id:pb/traits", "traits", {"limit": 3})
    assert [list(page) for page in pages] == [["bulk_count", "on_trial", "plan"], ["power_bulk"]]
    pages = _pages(space, "user_id:pb/traits", "traits", {"class": "audience", "limit": 1})
    assert pages == [{"on_trial": False}, {"power_bulk": True}]
    _error(space.profile_api("user_id:pb/traits", params={"class": "event"}), 400, "invalid_class")
    # a repeated parameter goes to the documented (FastAPI) route: the last one counts there
    repeated = space.profile_api("user_id:pb/traits?class=x&class=computed_trait")
    assert repeated.status_code == 200, repeated.text
    assert repeated.json()["traits"] == {"bulk_count": 6}


def test_events_newest_first_with_limit_and_next(space: Space) -> None:
    messages = [
        {
            "type": "track",
            "userId": "ev",
            "event": f"Step {n}",
            "messageId": f"ev-{n:02d}",
            # two events share each second: the message id breaks the tie
            "timestamp": _ts(1, n // 2),
        }
        for n in range(13)
    ]
    space.send(*reversed(messages))
    space.eventually("user_id:ev/events?limit=100", lambda b: len(b["data"]) == 13)
    default = space.profile_api("user_id:ev/events").json()
    assert len(default["data"]) == 10
    assert default["cursor"]["has_more"] is True

    pages = _pages(space, "user_id:ev/events", "data", {"limit": 5})
    assert [len(page) for page in pages] == [5, 5, 3]
    order = [event["messageId"] for page in pages for event in page]
    assert order == [f"ev-{n:02d}" for n in reversed(range(13))]
    assert pages[0][0]["event"] == "Step 12"
    assert pages[0][0]["type"] == "track"


def test_external_ids_page_and_carry_segment_fields(space: Space) -> None:
    space.send(
        *(
            {
                "type": "identify",
                "userId": "xi",
                "anonymousId": f"xi-anon-{n}",
                "traits": {"email": "xi@example.com"} if n == 0 else {},
                "messageId": f"xi-{n}",
                "timestamp": _ts(2, n),
            }
            for n in range(4)
        )
    )
    expected = {("user_id", "xi"), ("email", "xi@example.com")} | {
        ("anonymous_id", f"xi-anon-{n}") for n in range(4)
    }
    space.eventually("user_id:xi/external_ids", lambda b: ids(b) == expected)
    pages = _pages(space, "user_id:xi/external_ids", "data", {"limit": 4})
    assert [len(page) for page in pages] == [4, 2]
    seen = [(item["type"], item["id"]) for page in pages for item in page]
    assert set(seen) == expected
    assert len(seen) == len(expected)
    for item in (item for page in pages for item in page):
        assert item["collection"] == "users"
        assert item["encoding"] == "none"
        assert item["source_id"] == str(space.source_id)
        datetime.fromisoformat(item["created_at"])


def test_metadata_names_first_and_last_messages(space: Space) -> None:
    space.send(
        {"type": "page", "anonymousId": "md-a", "messageId": "md-2", "timestamp": _ts(3, 30)},
        {"type": "page", "anonymousId": "md-a", "messageId": "md-1", "timestamp": _ts(3, 10)},
        {"type": "page", "anonymousId": "md-a", "messageId": "md-3", "timestamp": _ts(3, 50)},
    )
    space.eventually("anonymous_id:md-a/events", lambda b: len(b["data"]) == 3)
    metadata = space.profile_api("anonymous_id:md-a/metadata").json()["metadata"]
    assert metadata["first_message_id"] == "md-1"
    assert metadata["last_message_id"] == "md-3"
    assert metadata["first_source_id"] == metadata["last_source_id"] == str(space.source_id)
    assert metadata["expires_at"] is None
    created = datetime.fromisoformat(metadata["created_at"])
    assert created <= datetime.fromisoformat(metadata["updated_at"])


def test_links_between_a_user_and_its_account(space: Space) -> None:
    space.send(
        {
            "type": "group",
            "userId": "ln-user",
            "groupId": "ln-acme",
            "traits": {"name": "Acme"},
            "messageId": "ln-1",
            "timestamp": _ts(4),
        }
    )
    user = space.eventually("user_id:ln-user/links", lambda b: len(b["data"]) == 1)
    assert user["data"][0]["to_collection"] == "accounts"
    assert [(i["type"], i["id"]) for i in user["data"][0]["external_ids"]] == [
        ("group_id", "ln-acme")
    ]
    account = space.profile_api("group_id:ln-acme/links", collection="accounts").json()
    assert account["data"][0]["to_collection"] == "users"
    assert ("user_id", "ln-user") in {
        (i["type"], i["id"]) for i in account["data"][0]["external_ids"]
    }
    assert account["cursor"]["has_more"] is False


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert body["message"]


def _cursor(*parts: str) -> str:
    """A cursor in the API's own encoding, with the wrong contents."""
    return base64.urlsafe_b64encode("\x1f".join(parts).encode()).decode()


def test_unknown_things_are_json_404s_and_malformed_ids_json_400s(space: Space) -> None:
    space.send({"type": "identify", "userId": "er", "messageId": "er-1", "timestamp": _ts(5)})
    space.eventually("user_id:er/traits", lambda b: True)
    _error(space.profile_api("user_id:nobody/traits"), 404, "profile_not_found")
    _error(space.profile_api("user_id:er/traits", collection="accounts"), 404, "profile_not_found")
    _error(space.profile_api("user_id:er/traits", space="no-such-space"), 404, "space_not_found")
    _error(space.profile_api("user_id:er/traits", collection="groups"), 404, "collection_not_found")
    for bad in ("user_id", "user_id:", ":er"):
        _error(space.profile_api(f"{bad}/traits"), 400, "invalid_id")
    _error(space.profile_api("user_id:er/events", params={"limit": 0}), 400, "invalid_limit")


def test_unusual_forms_answer_as_the_documented_routes_do(space: Space) -> None:
    """The bare app answers ordinary reads; FastAPI answers the rest, and documents them all."""
    space.send({"type": "identify", "userId": "uf", "messageId": "uf-1", "timestamp": _ts(5)})
    plain = space.eventually("user_id:uf/traits", lambda b: True)
    response = space.profile_api("user_id:uf/traits", params={"limit": "ten"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert response.json()["errors"][0]["field"] == "query.limit"
    # a repeated parameter: the last one counts, as Starlette reads it
    repeated = space.profile_api("user_id:uf/traits?limit=0&limit=10")
    assert repeated.status_code == 200
    assert repeated.json() == plain
    assert space.profile_api("user_id:uf/traits?limit=007").json() == plain
    schema = httpx.get(f"{space.server.url}/api/openapi.json").json()
    assert "/v1/spaces/{space}/collections/{collection}/profiles/{lookup}/traits" in schema["paths"]


def test_bad_cursors_are_json_400s(space: Space) -> None:
    space.send({"type": "identify", "userId": "cu", "messageId": "cu-1", "timestamp": _ts(6)})
    space.eventually("user_id:cu/external_ids", lambda b: len(b["data"]) == 1)
    cases = {
        "traits": ["%%%", _cursor("a", "b")],
        "events": ["%%%", _cursor("only-one"), _cursor("not a time", "m1")],
        "external_ids": ["%%%", _cursor("a", "b"), _cursor("seven"), _cursor("-4")],
    }
    for resource, cursors in cases.items():
        for cursor in cursors:
            response = space.profile_api(f"user_id:cu/{resource}", params={"next": cursor})
            assert response.status_code == 400, (resource, cursor, response.text)
            assert response.json()["code"] == "invalid_cursor"


def test_auth_basic_token_opens_only_its_own_space(space: Space) -> None:
    other = Space.create(space.server)
    for target in (space, other):
        target.send({"type": "identify", "userId": "au", "messageId": "au-1", "timestamp": _ts(7)})
        target.eventually("user_id:au/traits", lambda b: True)
    _error(space.profile_api("user_id:au/traits", token=None), 401, "missing_token")
    _error(space.profile_api("user_id:au/traits", token="not-a-token"), 401, "invalid_token")

    created = space.admin("POST", "/access-tokens", json={"name": "reader"})
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert space.profile_api("user_id:au/traits", token=token).status_code == 200
    _error(other.profile_api("user_id:au/traits", token=token), 401, "invalid_token")
    # an access token reads profiles; it does not open the management API
    response = httpx.get(
        f"{space.server.url}/api/v1/workspaces/{space.slug}/profiles",
        params={"value": "au"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401


def _profile_id(space: Space, identifier: str) -> str:
    found = space.search(identifier=identifier)
    assert len(found) == 1, found
    return found[0]


def test_a_merged_away_profile_id_resolves_to_the_survivor(space: Space) -> None:
    space.send(
        {"type": "page", "anonymousId": "mg-web", "messageId": "mg-1", "timestamp": _ts(8, 0)},
        {
            "type": "identify",
            "userId": "mg",
            "anonymousId": "mg-phone",
            "traits": {"plan": "pro"},
            "messageId": "mg-2",
            "timestamp": _ts(8, 10),
        },
    )
    space.eventually("anonymous_id:mg-web/events", lambda b: len(b["data"]) == 1)
    space.eventually("user_id:mg/events", lambda b: len(b["data"]) == 1)
    web, known = _profile_id(space, "anonymous_id:mg-web"), _profile_id(space, "user_id:mg")
    assert web != known
    space.send(
        {
            "type": "identify",
            "userId": "mg",
            "anonymousId": "mg-web",
            "messageId": "mg-3",
            "timestamp": _ts(8, 20),
        }
    )
    everything = {("user_id", "mg"), ("anonymous_id", "mg-web"), ("anonymous_id", "mg-phone")}
    space.eventually("user_id:mg/external_ids", lambda b: ids(b) == everything)
    survivor = _profile_id(space, "user_id:mg")
    assert survivor in (web, known)
    gone = web if survivor == known else known
    for id_type in ("segment_id", "profile_id"):
        body = space.profile_api(f"{id_type}:{gone}/external_ids").json()
        assert ids(body) == everything
        assert space.profile_api(f"{id_type}:{gone}/traits").json()["traits"] == {"plan": "pro"}

    detail = space.admin("GET", f"/profiles/{gone}").json()
    assert detail["id"] == survivor
    assert detail["requested_id"] == gone
    assert [(m["survivor"], m["merged"], m["message_id"]) for m in detail["merges"]] == [
        (survivor, gone, "mg-3")
    ]
    assert [e["message_id"] for e in detail["events"]] == ["mg-3", "mg-2", "mg-1"]


def test_management_search_by_identifier_trait_and_value(space: Space) -> None:
    space.send(
        {
            "type": "identify",
            "userId": "se-1",
            "traits": {"email": "Se@Example.com", "plan": "pro", "seats": 5, "trial": False},
            "messageId": "se-a",
            "timestamp": _ts(9),
        },
        {
            "type": "identify",
            "userId": "se-2",
            "traits": {"plan": "free"},
            "messageId": "se-b",
            "timestamp": _ts(9),
        },
    )
    space.eventually("user_id:se-1/traits", lambda b: b["traits"].get("plan") == "pro")
    space.eventually("user_id:se-2/traits", lambda b: b["traits"].get("plan") == "free")
    one = _profile_id(space, "user_id:se-1")
    assert space.search(identifier="email:se@example.com") == [one]
    # emails are kept lowercased, so any case finds them; user ids and trait values are exact
    assert space.search(identifier="email: SE@example.COM") == [one]
    assert space.search(value="SE@Example.com") == [one]
    assert space.search(value="SE-1") == []
    assert space.search(trait="plan=PRO") == []
    assert space.search(trait="plan=pro") == [one]
    assert space.search(trait="seats=5") == [one]  # a number, as JSON
    assert space.search(trait="trial=false") == [one]
    assert space.search(trait="seats=6") == []
    assert space.search(value="se-1") == [one]
    assert space.search(identifier="email:nobody@example.com") == []
    response = space.admin("GET", "/profiles", params={"identifier": "no-colon"})
    _error(response, 400, "invalid_identifier")
    # no query: the profiles seen most recently (both were seen at the same time)
    assert set(space.search()) == {one, _profile_id(space, "user_id:se-2")}


def test_management_profile_view(space: Space) -> None:
    space.send(
        {
            "type": "identify",
            "userId": "dv",
            "traits": {"plan": "free", "city": "Oslo"},
            "messageId": "dv-1",
            "timestamp": _ts(10, 0),
        },
        {
            "type": "identify",
            "userId": "dv",
            "traits": {"plan": "pro"},
            "messageId": "dv-2",
            "timestamp": _ts(10, 30),
        },
        {
            "type": "group",
            "userId": "dv",
            "groupId": "dv-co",
            "messageId": "dv-3",
            "timestamp": _ts(10, 40),
        },
    )
    space.eventually("user_id:dv/links", lambda b: len(b["data"]) == 1)
    pid = _profile_id(space, "user_id:dv")
    response = space.admin("GET", f"/profiles/{pid}")
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["id"] == detail["requested_id"] == pid
    assert detail["kind"] == "user"
    traits = detail["traits"]
    assert {name: t["value"] for name, t in traits.items()} == {"plan": "pro", "city": "Oslo"}
    assert datetime.fromisoformat(traits["plan"]["updated_at"]) == datetime.fromisoformat(
        _ts(10, 30)
    )
    assert datetime.fromisoformat(traits["city"]["updated_at"]) == datetime.fromisoformat(
        _ts(10, 0)
    )
    assert (traits["plan"]["message_id"], traits["city"]["message_id"]) == ("dv-2", "dv-1")
    assert [(i["type"], i["value"], i["message_id"]) for i in detail["identifiers"]] == [
        ("user_id", "dv", "dv-1")
    ]
    assert detail["merges"] == []
    account = space.search(identifier="group_id:dv-co", collection="accounts")
    assert [link["profile_id"] for link in detail["links"]] == account
    assert [e["message_id"] for e in detail["events"]] == ["dv-3", "dv-2", "dv-1"]
    assert [e["type"] for e in detail["events"]] == ["group", "identify", "identify"]
    assert detail["first_seen"] == "2026-05-01T10:10:00.000Z"
    assert detail["last_seen"] == "2026-05-01T10:10:40.000Z"
    _error(space.admin("GET", "/profiles/prf_unknown"), 404, "profile_not_found")
