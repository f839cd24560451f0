"""The webhook connector against a recording server: every messageId can be delivered (the
``Idempotency-Key`` header carries it percent-encoded), and headers that cannot be sent are
refused when the config is read, without quoting their values."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import httpx
import pydantic
import pytest

from headwater.connectors.base import Outcome
from headwater.connectors.webhook import Webhook, WebhookConfig
from tests.destinations.connectors.events import track
from tests.destinations.sink import Sink


def connector(sink: Sink, client: httpx.AsyncClient, **config: Any) -> Webhook:
    return Webhook(WebhookConfig.model_validate({"url": sink.url, **config}), client)


@pytest.mark.parametrize(
    ("message_id", "key"),
    [
        ("m-1", "m-1"),
        ("commande-été-1", "commande-%C3%A9t%C3%A9-1"),
        ("注文 42", "%E6%B3%A8%E6%96%87%2042"),
        ("100%", "100%25"),
        ("line\nbreak", "line%0Abreak"),
    ],
)
async def test_every_message_id_is_delivered_with_a_reversible_key(
    sink: Sink, client: httpx.AsyncClient, message_id: str, key: str
) -> None:
    result = await connector(sink, client).send([track(message_id=message_id)])
    assert result.outcome is Outcome.DELIVERED, result.error
    (request,) = sink.requests
    assert request.headers["idempotency-key"] == key
    assert unquote(key) == message_id
    assert request.json()["messageId"] == message_id


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Token": "line\nbreak-hush-1"},
        {"X-Token": "é-hush-2"},
        {"X-Token": " hush-3"},
        {"Bad Name": "hush-4"},
    ],
)
def test_headers_that_cannot_be_sent_are_refused_without_their_value(
    headers: dict[str, str],
) -> None:
    with pytest.raises(pydantic.ValidationError) as refused:
        WebhookConfig.model_validate({"url": "https://example.com/hook", "headers": headers})
    shown = refused.value.errors(include_input=False, include_context=False, include_url=False)
    assert "hush" not in str(shown)
    assert "header" in shown[0]["msg"]
