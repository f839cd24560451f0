"""Personal values in the management API's answers: shown with ``pii:read``, masked without.

Real events go through the tracking API and the server's processor; every route that answers
data is then read with a token that has ``pii:read`` and one that has not (service accounts of
the same role, inserted as the token routes would)."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from headwater.access import MASK, ROLE_PERMISSIONS, Role
from headwater.access.credentials import digest, new_secret
from headwater.api.masking import CONFIGURATION, MASKED_BY_ROUTE, SELF_MASKING
from headwater.api.permissions import ROUTES
from tests.api.conftest import Api
from tests.destinations.sink import Recorded, Reply, Sink
from tests.server import RunningServer

PREFIX = "/api/v1"


async def _insert_token(url: str, slug: str, role: str, pii_read: bool) -> str:
    parsed = make_url(url)
    socket = parsed.query.get("host")
    connection = await asyncpg.connect(
        host=socket if isinstance(socket, str) else parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    token = new_secret("hw_")
    try:
        await connection.execute(
            "INSERT INTO api_tokens (token_sha256, name, workspace_id, role, pii_read)"
            " SELECT $1, $2, id, $3, $4 FROM workspaces WHERE slug = $5",
            digest(token),
            f"{role}-{'pii' if pii_read else 'masked'}",
            role,
            pii_read,
            slug,
        )
    finally:
        await connection.close()
    return token


def eventually(probe: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("not in time")
        time.sleep(0.1)


@dataclass
class World:
    """A workspace with a person's events processed, and clients with and without pii:read."""

    slug: str
    source_id: int
    email: str
    phone: str
    first_name: str
    ip: str
    user_id: str
    params: dict[str, str]
    shown: httpx.Client
    masked: httpx.Client
    developer: httpx.Client
    sink: Sink

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.email, self.phone, self.first_name, self.ip)

    def path(self, template: str) -> str:
        key = "audience" if "/audiences/" in template else "trait"
        values = {**self.params, "key": self.params[key]}
        return PREFIX + re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)


def _client(server: RunningServer, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


@pytest.fixture(scope="module")
def world(api_server: RunningServer, shared_database_url: str) -> Iterator[World]:
    tag = uuid.uuid4().hex[:8]
    email, phone = f"ana.{tag}@example.com", f"+35191{int(tag, 16) % 10**7:07d}"
    first_name, user_id = f"Anabela{tag}", f"user-{tag}"
    ip = f"198.51.100.{int(tag, 16) % 250 + 1}"
    api = Api(api_server, api_server.admin())
    slug = api.workspace()
    source = api.source(workspace=slug)
    write_key, source_id = source["write_key"], source["id"]

    def error_reply(request: Recorded) -> Reply:
        return Reply(400, {"error": "rejected", "echo": request.json()})

    with Sink(error_reply) as sink:
        ws = f"{PREFIX}/workspaces/{slug}"
        destination = api.ok(
            "POST",
            f"{ws}/destinations",
            201,
            json={"name": "hook", "kind": "webhook", "config": {"url": sink.url}},
        )
        context = {"ip": ip, "library": {"name": "analytics-python", "version": "2.3"}}
        traits = {"email": email, "phone": phone, "firstName": first_name, "plan": "pro"}
        batch = [
            {"type": "identify", "userId": user_id, "traits": traits, "context": context},
            {
                "type": "track",
                "userId": user_id,
                "event": "Signed Up",
                "properties": {"email": email, "plan": "pro"},
                "context": context,
            },
            # rejected (no event name): the message as received is kept with the reason
            {"type": "track", "userId": user_id, "properties": {"email": email}},
        ]
        response = httpx.post(
            f"{api_server.url}/v1/batch", json={"batch": batch}, auth=(write_key, "")
        )
        assert response.status_code == 200, response.text
        # an unreadable request: its raw text is kept as an excerpt
        httpx.post(
            f"{api_server.url}/v1/batch",
            content=f'{{"batch": [{{"traits": {{"email": "{email}"'.encode(),
            headers={"content-type": "application/json"},
            auth=(write_key, ""),
        )
        found = eventually(
            lambda: api.ok("GET", f"{ws}/profiles", params={"identifier": f"user_id:{user_id}"})
        )
        profile_id = found[0]["id"]
        eventually(lambda: api.ok("GET", f"{ws}/profiles/{profile_id}")["traits"].get("email"))
        api.ok(
            "POST",
            f"{ws}/audiences",
            201,
            json={
                "key": "pros",
                "name": "Pros",
                "definition": {
                    "version": 1,
                    "condition": {
                        "type": "trait",
                        "trait": "plan",
                        "operator": "equals",
                        "value": "pro",
                    },
                },
            },
        )
        api.ok(
            "POST",
            f"{ws}/computed-traits",
            201,
            json={
                "key": "signup_email",
                "name": "Sign-up email",
                "definition": {
                    "version": 1,
                    "kind": "last",
                    "event": "Signed Up",
                    "property": "email",
                },
            },
        )
        model = {
            "name": "Buyers",
            "connection": "postgresql://reader:pw@127.0.0.1:1/shop",  # nothing listens
            "query": "SELECT 1 AS id",
            "primary_key": "id",
        }
        model_id = api.ok("POST", f"{ws}/reverse-etl/models", 201, json=model)["id"]
        sync = {
            "name": "Buyers",
            "model_id": model_id,
            "target": "profiles",
            "message_type": "identify",
            "mapping": {"user_id": "id"},
        }
        sync_id = api.ok("POST", f"{ws}/reverse-etl/syncs", 201, json=sync)["id"]
        api.ok("POST", f"{ws}/reverse-etl/syncs/{sync_id}/run")
        runs = eventually(
            lambda: [
                run
                for run in api.ok("GET", f"{ws}/reverse-etl/syncs/{sync_id}/runs")
                if run["status"] != "running"
            ]
        )
        api.ok("POST", f"{ws}/audiences/pros/recompute")
        api.ok("POST", f"{ws}/computed-traits/signup_email/recompute")
        eventually(
            lambda: api.ok("GET", f"{ws}/destinations/{destination['id']}/dead-letters"),
            timeout=60,
        )
        tokens = {
            name: asyncio.run(_insert_token(shared_database_url, slug, role, pii))
            for name, role, pii in (
                ("shown", "analyst", True),
                ("masked", "analyst", False),
                ("developer", "developer", False),
            )
        }
        with (
            _client(api_server, tokens["shown"]) as shown,
            _client(api_server, tokens["masked"]) as masked,
            _client(api_server, tokens["developer"]) as developer,
        ):
            yield World(
                slug=slug,
                source_id=source_id,
                email=email,
                phone=phone,
                first_name=first_name,
                ip=ip,
                user_id=user_id,
                params={
                    "workspace": slug,
                    "source_id": str(source_id),
                    "profile_id": profile_id,
                    "audience": "pros",
                    "trait": "signup_email",
                    "destination_id": str(destination["id"]),
                    "message_id": "",
                    "model_id": str(model_id),
                    "sync_id": str(sync_id),
                    "run_id": str(runs[0]["id"]),
                },
                shown=shown,
                masked=masked,
                developer=developer,
                sink=sink,
            )
    api.client.close()


def _data_routes() -> list[tuple[str, str]]:
    """Every GET route of the permission table under a workspace whose answer is not
    configuration, from the table itself, that the analysts the test reads as may call
    (privacy's routes need privacy:read: tests/privacy checks who sees their answers)."""
    return sorted(
        (method, path)
        for method, path in ROUTES
        if method == "GET"
        and ROUTES[(method, path)].permission in ROLE_PERMISSIONS[Role.ANALYST]
        and path.startswith("/workspaces/{workspace}/")
        and (method, path) not in CONFIGURATION
        and (method, path) not in SELF_MASKING
        and (method, path) not in MASKED_BY_ROUTE
    )


def _get(client: httpx.Client, world: World, template: str) -> httpx.Response:
    path = world.path(template)
    if "{message_id}" in template:
        events = client.get(world.path("/workspaces/{workspace}/sources/{source_id}/events"))
        path = world.path(template.replace("{message_id}", events.json()[0]["messageId"]))
    return client.get(path, params=QUERIES.get(template))


QUERIES = {"/workspaces/{workspace}/profiles": {"trait": "plan=pro"}}
"""The query a route needs to answer something."""


@pytest.mark.parametrize(("method", "template"), _data_routes())
def test_no_personal_value_in_any_masked_answer(world: World, method: str, template: str) -> None:
    shown = _get(world.shown, world, template)
    masked = _get(world.masked, world, template)
    assert masked.status_code == shown.status_code == 200, (template, masked.text)
    assert masked.headers["content-length"] == str(len(masked.content))
    for secret in world.secrets:
        assert secret not in masked.text, (template, secret)
    if template.removeprefix("/workspaces/{workspace}") in CARRIERS:
        assert world.email in shown.text, template


CARRIERS = frozenset(
    {
        "/events/{message_id}",
        "/sources/{source_id}/events",
        "/rejections",
        "/profiles",
        "/profiles/{profile_id}",
        "/profiles/{profile_id}/events",
        "/audiences/{key}/members",
        "/computed-traits/{key}/members",
        "/computed-traits/{key}/changes",
        "/destinations/{destination_id}/errors",
        "/destinations/{destination_id}/dead-letters",
    }
)
"""Routes whose unmasked answer holds the person's email here (the test can fail)."""


def test_the_data_routes_include_every_kind_of_data() -> None:
    routes = {path.removeprefix("/workspaces/{workspace}") for _, path in _data_routes()}
    for expected in (
        "/events/{message_id}",
        "/sources/{source_id}/events",
        "/rejections",
        "/profiles/{profile_id}",
        "/audiences/{key}/members",
        "/computed-traits/{key}/changes",
        "/destinations/{destination_id}/errors",
        "/destinations/{destination_id}/dead-letters",
        "/quarantine",
        "/violations",
        "/failures",
    ):
        assert expected in routes or ("GET", f"/workspaces/{{workspace}}{expected}") in (
            SELF_MASKING
        ), expected


def _events(client: httpx.Client, world: World) -> dict[str, Any]:
    events = client.get(world.path("/workspaces/{workspace}/sources/{source_id}/events"))
    assert events.status_code == 200, events.text
    return {event["type"]: event["payload"] for event in events.json()}


def test_events_show_personal_values_with_pii_read_only(world: World) -> None:
    shown, masked = _events(world.shown, world), _events(world.masked, world)
    assert shown["identify"]["traits"]["email"] == world.email
    assert shown["identify"]["context"]["ip"] == world.ip
    assert shown["track"]["properties"]["email"] == world.email
    identify = masked["identify"]
    assert identify["traits"] == {
        "email": MASK,
        "phone": MASK,
        "firstName": MASK,
        "plan": "pro",
    }
    assert identify["context"]["ip"] == MASK
    assert identify["context"]["library"]["name"] == "analytics-python"
    assert identify["userId"] == world.user_id
    assert masked["track"]["properties"] == {"email": MASK, "plan": "pro"}
    assert masked["track"]["event"] == "Signed Up"


def test_profile_traits_and_identifiers_are_masked(world: World) -> None:
    path = world.path("/workspaces/{workspace}/profiles/{profile_id}")
    shown, masked = world.shown.get(path).json(), world.masked.get(path).json()
    assert shown["traits"]["email"]["value"] == world.email
    assert masked["traits"]["email"]["value"] == MASK
    assert masked["traits"]["plan"] == shown["traits"]["plan"]
    by_type = {i["type"]: i["value"] for i in masked["identifiers"]}
    assert by_type["user_id"] == world.user_id
    assert by_type.get("email", MASK) == MASK


def test_members_and_computed_values_are_masked(world: World) -> None:
    members = world.path("/workspaces/{workspace}/audiences/{audience}/members")
    shown = world.shown.get(members).json()["data"]
    masked = world.masked.get(members).json()["data"]
    assert [m["email"] for m in shown] == [world.email]
    assert [(m["email"], m["user_id"]) for m in masked] == [(MASK, world.user_id)]
    values = world.path("/workspaces/{workspace}/computed-traits/{trait}/members")
    assert [m["value"] for m in world.shown.get(values).json()["data"]] == [world.email]
    assert [m["value"] for m in world.masked.get(values).json()["data"]] == [MASK]
    csv = world.masked.get(members, params={"format": "csv"})
    assert csv.status_code == 200
    assert world.user_id in csv.text
    assert world.email not in csv.text
    assert MASK in csv.text
    assert world.email in world.shown.get(members, params={"format": "csv"}).text


def test_previews_are_masked(world: World) -> None:
    path = world.path("/workspaces/{workspace}/computed-traits/preview")
    body = {"definition": {"version": 1, "kind": "last", "event": "Signed Up", "property": "email"}}
    shown = world.shown.post(path, json=body)
    masked = world.masked.post(path, json=body)
    assert shown.status_code == masked.status_code == 200, masked.text
    assert world.email in shown.text
    assert world.email not in masked.text
    assert MASK in masked.text
    audience = world.path("/workspaces/{workspace}/audiences/preview")
    condition = {"type": "trait", "trait": "plan", "operator": "equals", "value": "pro"}
    preview = world.masked.post(
        audience, json={"definition": {"version": 1, "condition": condition}}
    )
    assert preview.status_code == 200
    assert world.email not in preview.text


def test_rejections_mask_the_message_and_withhold_unreadable_text(world: World) -> None:
    path = world.path("/workspaces/{workspace}/rejections")
    shown = world.shown.get(path, params={"source": world.source_id}).json()
    masked = world.masked.get(path, params={"source": world.source_id}).json()
    assert any(world.email in json.dumps(r["payload"]) for r in shown)
    assert len(masked) == len(shown) >= 2
    assert all(r["payload"] == MASK or isinstance(r["payload"], dict) for r in masked)
    assert world.email not in json.dumps(masked)


def test_destination_exchanges_are_masked(world: World) -> None:
    path = world.path("/workspaces/{workspace}/destinations/{destination_id}/test")
    event = {"type": "identify", "userId": world.user_id, "traits": {"email": world.email}}
    answer = world.developer.post(path, json={"event": event})
    assert answer.status_code == 200, answer.text
    exchange = answer.json()["exchange"]
    assert world.email not in answer.text
    assert json.loads(exchange["request_body"])["traits"]["email"] == MASK
    assert json.loads(exchange["request_body"])["userId"] == world.user_id


def test_the_live_feed_is_masked(world: World, api_server: RunningServer) -> None:
    path = world.path("/workspaces/{workspace}/sources/{source_id}/live")
    tag = uuid.uuid4().hex[:6]
    email = f"live.{tag}@example.com"
    with world.masked.stream("GET", path, timeout=30) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines) == ": connected"
        write_key = world.shown.get(
            world.path("/workspaces/{workspace}/sources/{source_id}")
        ).json()["write_key"]
        sent = httpx.post(
            f"{api_server.url}/v1/identify",
            json={"userId": world.user_id, "traits": {"email": email, "plan": tag}},
            auth=(write_key, ""),
        )
        assert sent.status_code == 200
        data = next(line for line in lines if line.startswith("data: "))
    event = json.loads(data.removeprefix("data: "))
    assert event["payload"]["traits"] == {"email": MASK, "plan": tag}
    assert email not in data


def test_configuration_is_not_masked(world: World) -> None:
    rules = world.masked.get(world.path("/workspaces/{workspace}/identity-rules"))
    assert rules.status_code == 200
    assert MASK not in rules.text


def test_the_personal_keys_are_listed(world: World) -> None:
    path = world.path("/workspaces/{workspace}/personal-keys")
    listed = world.masked.get(path).json()
    assert listed["marker"] == MASK
    assert listed["pii_read"] is False
    assert {"email", "phone", "firstname", "ip"} <= set(listed["anywhere"])
    assert "name" in listed["in_traits"]
    assert world.shown.get(path).json()["pii_read"] is True


def test_masking_configuration_lists_known_routes() -> None:
    assert set(CONFIGURATION) <= set(ROUTES)
    assert set(SELF_MASKING) <= set(ROUTES)
    assert set(MASKED_BY_ROUTE) <= set(ROUTES)
    assert not set(CONFIGURATION) & set(SELF_MASKING)
    assert not (set(CONFIGURATION) | set(SELF_MASKING)) & set(MASKED_BY_ROUTE)


def test_the_webhook_debugger_stream_is_masked_as_its_list(
    world: World, api_server: RunningServer
) -> None:
    admin = Api(api_server, api_server.admin())
    rule = {"type": "identify", "set": {"userId": "body.user", "traits.email": "body.email"}}
    made = admin.ok(
        "POST",
        world.path("/workspaces/{workspace}/webhook-sources"),
        201,
        json={"name": "masked hook", "config": {"auth": {"type": "none"}, "rules": [rule]}},
    )
    requests = world.path(f"/workspaces/{{workspace}}/sources/{made['id']}/hook/requests")
    email = f"hook.{uuid.uuid4().hex[:6]}@example.com"
    with world.masked.stream("GET", requests + "/live", timeout=30) as stream:
        lines = stream.iter_lines()
        assert next(lines) == ": connected"
        sent = httpx.post(
            api_server.url + made["hook"]["path"], json={"user": world.user_id, "email": email}
        )
        assert sent.status_code == 200
        data = next(line for line in lines if line.startswith("data: "))
    streamed = json.loads(data.removeprefix("data: "))
    assert streamed["messages"][0]["traits"]["email"] == MASK
    assert streamed == world.masked.get(requests).json()[0]
    assert world.shown.get(requests).json()[0]["messages"][0]["traits"]["email"] == email
