"""Inputs that once crashed the management and Profile APIs with a plain-text 500: ids and
cursors beyond the database's integer ranges, NUL characters in a path, a query or a body, and
times whose window cannot be represented. Each now answers a 4xx with a JSON error body."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
import pytest

from tests.api.conftest import Api, unique
from tests.server import ADMIN_TOKEN

INT4 = 2**31  # one past the largest serial id (sources, destinations, plan versions)
INT8 = 2**63  # one past the largest bigint (offsets, rejection, quarantine and change ids)
_DESTINATION = "/api/v1/workspaces/default/destinations/"


def _refused(response: httpx.Response) -> dict[str, Any]:
    """The answer is a 4xx in the API's error shape."""
    request = f"{response.request.method} {response.request.url}"
    assert 400 <= response.status_code < 500, f"{request}: {response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/json"), request
    body: dict[str, Any] = response.json()
    assert body["success"] is False
    assert body["code"]
    assert body["message"]
    return body


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/api/v1/workspaces/default/sources/{INT4}", None),
        ("PATCH", f"/api/v1/workspaces/default/sources/{INT4}", {"enabled": True}),
        ("GET", f"/api/v1/workspaces/default/sources/{INT4}/events", None),
        ("GET", f"/api/v1/workspaces/default/sources/{INT4}/live", None),
        ("GET", f"/api/v1/workspaces/default/rejections?source={INT4}", None),
        ("GET", f"/api/v1/workspaces/default/stats?source={INT4}", None),
        ("GET", f"{_DESTINATION}{INT4}", None),
        ("PATCH", f"{_DESTINATION}{INT4}", {"enabled": False}),
        ("DELETE", f"{_DESTINATION}{INT4}", None),
        ("POST", f"{_DESTINATION}{INT4}/enable", None),
        ("POST", f"{_DESTINATION}{INT4}/disable", None),
        ("POST", f"{_DESTINATION}{INT4}/test", None),
        ("GET", f"{_DESTINATION}{INT4}/stats", None),
        ("GET", f"{_DESTINATION}{INT4}/health", None),
        ("GET", f"{_DESTINATION}{INT4}/errors", None),
        ("GET", f"{_DESTINATION}{INT4}/dead-letters", None),
        ("POST", f"{_DESTINATION}{INT4}/replay", {"dead_letters": True}),
        ("GET", f"/api/v1/workspaces/default/sources/{INT4}/tracking-plan", None),
        ("DELETE", f"/api/v1/workspaces/default/sources/{INT4}/tracking-plan", None),
        ("GET", f"/api/v1/workspaces/default/sources/{INT4}/observed-schema", None),
        ("GET", f"/api/v1/workspaces/default/violations?source_id={INT4}", None),
        ("GET", f"/api/v1/workspaces/default/quarantine?source_id={INT4}", None),
        ("POST", "/api/v1/workspaces/default/quarantine/replay", {"source_id": INT4}),
        ("POST", "/api/v1/workspaces/default/quarantine/forward", {"to_source": INT4}),
        (
            "POST",
            "/api/v1/workspaces/default/destinations",
            {"name": "d", "kind": "webhook", "config": {}, "sources": [INT4]},
        ),
    ],
)
def test_an_id_beyond_the_databases_range_is_refused(
    api: Api, method: str, path: str, body: Any
) -> None:
    with api.client.stream(method, path, json=body) as response:
        response.read()
    _refused(response)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/workspaces/default/sources/{source}/events", {"before": INT8}),
        ("/api/v1/workspaces/default/sources/{source}/live", {"after": INT8}),
        ("/api/v1/workspaces/default/rejections", {"before": INT8}),
        ("/api/v1/workspaces/default/quarantine", {"before": INT8}),
        ("/api/v1/workspaces/default/profiles/p1/audiences", {"before": INT8}),
    ],
)
def test_a_cursor_beyond_the_databases_range_is_refused(
    api: Api, path: str, params: dict[str, int]
) -> None:
    source = api.source()
    with api.client.stream("GET", path.format(source=source["id"]), params=params) as response:
        response.read()
    _refused(response)


def test_a_live_feed_resumed_beyond_the_databases_range_is_refused(api: Api) -> None:
    source = api.source()
    path = f"/api/v1/workspaces/{source['workspace']}/sources/{source['id']}/live"
    with api.client.stream("GET", path, headers={"Last-Event-ID": str(INT8)}) as response:
        response.read()
    _refused(response)


def test_a_quarantine_id_beyond_the_databases_range_is_refused(api: Api) -> None:
    body = {"ids": [INT8]}
    _refused(api.client.post("/api/v1/workspaces/default/quarantine/replay", json=body))


def _basic() -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{ADMIN_TOKEN}:".encode()).decode()}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/workspaces/de%00fault/tracking-plans",
        "/api/v1/workspaces/default/events/m%00",
        "/api/v1/workspaces/default/profiles/p%001",
        "/api/v1/workspaces/default/audiences/a%00",
        "/v1/spaces/default/collections/users/profiles/user_id:u%001/traits",
        "/v1/spaces/de%00fault/collections/users/profiles/user_id:u1/events",
    ],
)
def test_a_nul_character_in_a_path_is_refused(api: Api, path: str) -> None:
    body = _refused(api.client.get(path, headers=_basic() if path.startswith("/v1/") else {}))
    assert body["code"] == "invalid_character"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/workspaces?x=de%00fault",
        "/api/v1/workspaces/default/events/m1?x=%00",
        "/api/v1/workspaces/default/rejections?source=%00",
        "/api/v1/workspaces/default/profiles?identifier=email:a%00b",
        "/api/v1/workspaces/default/violations?event=%00",
        "/api/v1/workspaces/default/audiences/a/members?cursor=%00",
        "/v1/spaces/default/collections/users/profiles/user_id:u1/traits?next=%00",
        "/v1/spaces/default/collections/users/profiles/user_id:u1/traits?include=a%00",
    ],
)
def test_a_nul_character_in_a_query_is_refused(api: Api, path: str) -> None:
    body = _refused(api.client.get(path, headers=_basic() if path.startswith("/v1/") else {}))
    assert body["code"] == "invalid_character"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/workspaces", {"slug": "nul", "name": "a\x00b"}),
        ("POST", "/api/v1/workspaces/default/sources", {"name": "a\x00b"}),
        ("PATCH", "/api/v1/workspaces/default/sources/1", {"name": "a\x00b"}),
        ("POST", "/api/v1/workspaces/default/access-tokens", {"name": "\x00"}),
        ("PUT", "/api/v1/workspaces/default/identity-rules", {"limits": {"email\x00": 1}}),
        ("POST", "/api/v1/workspaces/default/tracking-plans", {"name": "plan\x00"}),
        (
            "POST",
            "/api/v1/workspaces/default/audiences",
            {"key": "k", "name": "\x00", "definition": {}},
        ),
        (
            "POST",
            "/api/v1/workspaces/default/destinations",
            {"name": "\x00", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/"}},
        ),
    ],
)
def test_a_nul_character_in_a_body_is_refused(
    api: Api, method: str, path: str, body: dict[str, Any]
) -> None:
    refused = _refused(api.client.request(method, path, json=body))
    assert refused["code"] == "invalid_character"


def test_an_escaped_backslash_before_u0000_is_not_a_nul_character(api: Api) -> None:
    # The JSON text \\u0000 is a backslash and the letters u0000, not a NUL character.
    name = "a\\u0000b"
    created = api.ok("POST", "/api/v1/workspaces/default/sources", 201, json={"name": name})
    assert created["name"] == name


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/workspaces/default/stats?until=0001-01-01",
        "/api/v1/workspaces/default/stats?since=0001-01-01T00:00:00%2B01:00",
        "/api/v1/workspaces/default/stats?until=9999-12-31T23:59:59-01:00",
        "/api/v1/workspaces/default/violations?until=0001-01-01T00:00:00Z",
        f"{_DESTINATION}1/stats?until=0001-01-01",
    ],
)
def test_a_time_outside_the_representable_range_is_refused(api: Api, path: str) -> None:
    _refused(api.client.get(path))


def test_a_replay_window_outside_the_representable_range_is_refused(api: Api) -> None:
    body = {"since": "0001-01-01T00:00:00+01:00", "until": "2026-01-01T00:00:00Z"}
    _refused(api.client.post(f"{_DESTINATION}1/replay", json=body))


@pytest.mark.parametrize("text", ['name: "Web\\0"\n', 'name: "Web\\x00"\n', "name: Web\x00\n"])
def test_a_nul_character_in_an_imported_plan_is_refused(api: Api, text: str) -> None:
    # YAML has escapes of its own for NUL: they are found once the file is read.
    response = api.client.post(
        "/api/v1/workspaces/default/tracking-plans/import",
        params={"format": "yaml", "slug": "nul-plan"},
        content=text.encode(),
    )
    assert _refused(response)["code"] in {"invalid_character", "invalid_plan"}


@pytest.mark.parametrize(
    ("tail", "cursor"),
    [
        ("events", "2026-01-01T00:00:00.000000Z\x1fm\x00"),  # a NUL in the message id
        ("external_ids", str(INT8)),  # an offset beyond the database's range
    ],
)
def test_a_profile_api_cursor_that_decodes_to_bad_input_is_refused(
    api: Api, tail: str, cursor: str
) -> None:
    # The cursor is opaque base64: what is wrong with it shows only once it is decoded.
    source = api.source()
    user = unique("cursor")
    api.track(source["write_key"], "/v1/identify", userId=user, traits={"plan": "pro"})
    path = f"/v1/spaces/default/collections/users/profiles/user_id:{user}/{tail}"
    deadline = time.monotonic() + 30
    while api.client.get(path, headers=_basic()).status_code != 200:
        assert time.monotonic() < deadline, "the profile was never built"
        time.sleep(0.1)
    token = base64.urlsafe_b64encode(cursor.encode()).decode()
    body = _refused(api.client.get(path, params={"next": token}, headers=_basic()))
    assert body["code"] == "invalid_cursor"


def _event(**fields: Any) -> dict[str, Any]:
    return {"version": 1, "condition": {"type": "event", "event": "A", **fields}}


@pytest.mark.parametrize(
    "definition",
    [
        _event(count={"operator": "at_least", "value": INT8}),
        _event(window={"within_days": 10**9}),
        _event(window={"between_days": [1, 10**9]}),
        _event(where=[{"property": "d", "operator": "within_last_days", "value": 10**9}]),
    ],
)
def test_an_audience_whose_numbers_cannot_be_represented_is_refused(
    api: Api, definition: dict[str, Any]
) -> None:
    path = "/api/v1/workspaces/default/audiences/preview"
    body = _refused(api.client.post(path, json={"definition": definition}))
    assert body["code"] == "invalid_definition"


_LONG = "n" * 201  # one past the display-name limit


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/api/v1/workspaces/default/access-tokens", {"name": _LONG}, "invalid_name"),
        ("/api/v1/workspaces/default/access-tokens", {"name": "pasted\n"}, "invalid_name"),
        (
            "/api/v1/workspaces/default/audiences",
            {"key": "long_name", "name": _LONG, "definition": {}},
            "invalid_name",
        ),
        (
            "/api/v1/workspaces/default/tracking-plans",
            {"name": _LONG, "events": []},
            "invalid_plan",
        ),
        (
            "/api/v1/workspaces/default/tracking-plans",
            {"name": "p", "events": [{"name": "e" * 513, "type": "track"}]},
            "invalid_plan",
        ),
    ],
)
def test_a_name_too_long_to_show_or_to_arrive_is_refused(
    api: Api, path: str, body: dict[str, Any], code: str
) -> None:
    assert _refused(api.client.post(path, json=body))["code"] == code


def test_unknown_quarantine_ids_are_counted_not_echoed_one_by_one(api: Api) -> None:
    ids = list(range(1, 70_001))
    path = "/api/v1/workspaces/default/quarantine/replay"
    refused = _refused(api.client.post(path, json={"ids": ids}))
    assert refused["code"] == "not_quarantined"
    assert "70000 ids" in refused["message"]
    assert len(refused["message"]) < 200
