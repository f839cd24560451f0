"""The masking middleware on its own, around a small ASGI app that answers as a route would
(after the permission check left its principal): JSON masked, other answers refused."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from headwater.access import MASK, Grant, Principal, Role
from headwater.api.masking import MaskingMiddleware
from headwater.api.tracking import Receive, Scope, Send

EVENTS = "/workspaces/{workspace}/sources/{source_id}/events"
LIVE = "/workspaces/{workspace}/sources/{source_id}/live"
SOURCES = "/workspaces/{workspace}/sources"


@dataclass
class _Route:
    path: str


def app(route: str, pii_read: bool, content_type: bytes, chunks: list[bytes]) -> Any:
    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = _Route(route)
        scope["path_params"] = {"workspace": "shop", "source_id": "1"}
        grants = {"shop": Grant(Role.ANALYST, pii_read=pii_read)}
        scope.setdefault("state", {})["principal"] = Principal(
            "service_account", "t", grants=grants
        )
        headers = [(b"content-type", content_type), (b"content-length", b"999")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for i, chunk in enumerate(chunks):
            more = i < len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

    return MaskingMiddleware(answer)


BODY = json.dumps([{"payload": {"traits": {"email": "a@b.c", "plan": "pro"}}}]).encode()


async def get(asgi: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/api/v1/x")


@pytest.mark.parametrize("split", [1, 7, 40])
async def test_a_json_answer_is_masked_whatever_its_chunks(split: int) -> None:
    chunks = [BODY[i : i + split] for i in range(0, len(BODY), split)]
    response = await get(app(EVENTS, False, b"application/json", chunks))
    assert response.status_code == 200
    assert response.json() == [{"payload": {"traits": {"email": MASK, "plan": "pro"}}}]
    assert response.headers["content-length"] == str(len(response.content))


async def test_with_pii_read_the_answer_passes_as_it_is() -> None:
    response = await get(app(EVENTS, True, b"application/json", [BODY]))
    assert response.content == BODY


async def test_configuration_passes_as_it_is() -> None:
    response = await get(app(SOURCES, False, b"application/json", [BODY]))
    assert response.content == BODY


async def test_another_kind_of_answer_from_a_masked_route_is_refused() -> None:
    response = await get(app(EVENTS, False, b"text/csv", [b"email\na@b.c\n"]))
    assert response.status_code == 403
    assert response.json()["code"] == "pii_read_required"
    assert b"a@b.c" not in response.content


async def test_a_route_that_masks_its_own_stream_passes() -> None:
    response = await get(app(LIVE, False, b"text/event-stream", [b": connected\n\n"]))
    assert response.status_code == 200
    assert response.content == b": connected\n\n"
