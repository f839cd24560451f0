"""Webhook: POST each event (or a batch of them) as JSON to a URL, signed with HMAC-SHA256.

Single mode (``batch_size`` 1) sends the event itself as the body; batched mode sends
``{"batch": [event, ...]}``. Every request carries:

- ``Content-Type: application/json``;
- ``Idempotency-Key``: the event's ``messageId`` (single) or a digest of the batch's messageIds,
  so that a receiver can drop the duplicates at-least-once delivery may produce;
- ``X-Signature: sha256=<hex>`` when a ``secret`` is set: HMAC-SHA256 of the exact body bytes
  with the secret as key (GitHub's scheme, also used by Segment's webhook destination);
- any ``headers`` configured (values are secrets: they may carry credentials).

A receiver verifies the signature with::

    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    hmac.compare_digest(expected, request.headers["X-Signature"])
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import ClassVar, Literal

import httpx
import msgspec
import pydantic

from headwater.destinations.base import (
    Connector,
    Event,
    SendResult,
    classify,
    recorded,
    transport_failure,
)

__all__ = ["Webhook", "WebhookConfig"]

SIGNATURE_HEADER = "X-Signature"


class WebhookConfig(pydantic.BaseModel):
    url: pydantic.AnyHttpUrl
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    batch_size: int = pydantic.Field(
        default=1,
        ge=1,
        le=1000,
        description="1 sends each event alone; more sends {'batch': [...]}",
    )
    secret: pydantic.SecretStr | None = pydantic.Field(
        default=None, description="HMAC-SHA256 key for the X-Signature header"
    )
    headers: dict[str, pydantic.SecretStr] = pydantic.Field(
        default_factory=dict, description="extra request headers (for example Authorization)"
    )


class Webhook(Connector[WebhookConfig]):
    kind = "webhook"
    config_type = WebhookConfig
    max_batch: ClassVar[int] = 1000

    def batch_limit(self) -> int:
        return self.config.batch_size

    async def send(self, events: Sequence[Event]) -> SendResult:
        config = self.config
        if config.batch_size == 1 and len(events) == 1:
            body = msgspec.json.encode(events[0])
            key = str(events[0].get("messageId", ""))
        else:
            body = msgspec.json.encode({"batch": events})
            ids = "\n".join(str(event.get("messageId", "")) for event in events)
            key = hashlib.sha256(ids.encode()).hexdigest()
        headers = {name: value.get_secret_value() for name, value in config.headers.items()}
        headers["Content-Type"] = "application/json"
        headers["Idempotency-Key"] = key
        secrets = list(headers.values())[: len(config.headers)]
        if config.secret is not None:
            secret = config.secret.get_secret_value()
            digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            headers[SIGNATURE_HEADER] = f"sha256={digest}"
            secrets.append(secret)
        request = self.client.build_request(
            config.method, str(config.url), content=body, headers=headers
        )
        try:
            response = await self.client.send(request)
        except httpx.HTTPError as error:
            return transport_failure(request, error, secrets=secrets)
        return classify(recorded(response, secrets=secrets))
