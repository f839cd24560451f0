"""Webhook: POST each event (or a batch of them) as JSON to a URL, signed with HMAC-SHA256.

Single mode (``batch_size`` 1) sends the event itself as the body; batched mode sends
``{"batch": [event, ...]}``. Every request carries:

- ``Content-Type: application/json``;
- ``Idempotency-Key``: the event's ``messageId`` (single) or a digest of the batch's messageIds,
  so that a receiver can drop the duplicates at-least-once delivery may produce. A header
  carries printable ASCII only, so the messageId is percent-encoded as UTF-8 (RFC 3986): ``%``,
  spaces, control and non-ASCII characters become ``%XX``, anything else is sent as it is. An
  ASCII messageId without those is the key unchanged; ``urllib.parse.unquote(key)`` gives any
  messageId back (see :func:`idempotency_key`);
- ``X-Signature: sha256=<hex>`` when a ``secret`` is set: HMAC-SHA256 of the exact body bytes
  with the secret as key (GitHub's scheme, also used by Segment's webhook destination);
- any ``headers`` configured (values are secrets: they may carry credentials). Names are HTTP
  tokens and values printable ASCII without surrounding spaces, checked when the destination is
  saved (400 naming the header, never showing its value).

A receiver verifies the signature with::

    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    hmac.compare_digest(expected, request.headers["X-Signature"])
"""

from __future__ import annotations

import hashlib
import hmac
import re
import string
from collections.abc import Sequence
from typing import ClassVar, Literal
from urllib.parse import quote

import httpx
import pydantic

from headwater.connectors.base import (
    Connector,
    Event,
    SendResult,
    classify,
    recorded,
    transport_failure,
    unbuildable,
)
from headwater.spec import encode_message, encode_messages

__all__ = ["Webhook", "WebhookConfig", "idempotency_key"]

SIGNATURE_HEADER = "X-Signature"
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 field names
_VALUE = re.compile(r"([\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?)?")  # printable, no outer spaces
_KEPT = "".join(c for c in string.punctuation if c != "%")


def idempotency_key(message_id: str) -> str:
    """``message_id`` as an ``Idempotency-Key`` header value (see the module docstring).

    >>> idempotency_key("m-1"), idempotency_key("commande-été 1"), idempotency_key("50%")
    ('m-1', 'commande-%C3%A9t%C3%A9%201', '50%25')
    """
    return quote(message_id, safe=_KEPT)


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

    @pydantic.field_validator("headers")
    @classmethod
    def _sendable(cls, headers: dict[str, pydantic.SecretStr]) -> dict[str, pydantic.SecretStr]:
        for name, value in headers.items():
            if not _TOKEN.fullmatch(name):
                raise ValueError(f"header {name!r}: a name is letters, digits and !#$%&'*+.^_`|~-")
            if not _VALUE.fullmatch(value.get_secret_value()):
                raise ValueError(
                    f"header {name!r}: a value is printable ASCII without surrounding spaces"
                )
        return headers


class Webhook(Connector[WebhookConfig]):
    kind = "webhook"
    title = "Webhook"
    config_type = WebhookConfig
    max_batch: ClassVar[int] = 1000

    def batch_limit(self) -> int:
        return self.config.batch_size

    async def send(self, events: Sequence[Event]) -> SendResult:
        config = self.config
        if config.batch_size == 1 and len(events) == 1:
            body = encode_message(events[0])
            key = idempotency_key(events[0].message_id)
        else:
            body = b'{"batch":' + encode_messages(events) + b"}"
            ids = "\n".join(event.message_id for event in events)
            key = hashlib.sha256(ids.encode()).hexdigest()
        headers = {name: value.get_secret_value() for name, value in config.headers.items()}
        headers["Content-Type"] = "application/json"
        headers["Idempotency-Key"] = key
        if config.secret is not None:
            secret = config.secret.get_secret_value()
            digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            headers[SIGNATURE_HEADER] = f"sha256={digest}"
        try:
            request = self.client.build_request(
                config.method, str(config.url), content=body, headers=headers
            )
        except (ValueError, httpx.InvalidURL) as error:
            return unbuildable(config.method, str(config.url), error)
        try:
            response = await self.client.send(request)
        except httpx.HTTPError as error:
            return transport_failure(request, error)
        return classify(recorded(response))
