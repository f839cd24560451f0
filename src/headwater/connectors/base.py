"""The connector interface: what a destination plugin implements, and nothing more.

A connector maps Segment messages (typed: :data:`Event`) to one vendor's API. It never
retries, sleeps, queues or counts: the delivery engine (:mod:`headwater.delivery`) does that
once for every connector. A connector gets its typed config and a shared
``httpx.AsyncClient``, sends one batch (one event unless :attr:`Connector.max_batch` says
more), and reports what happened as a :class:`SendResult`, with the request and response it
saw so that failures can be shown::

    class Echo(Connector[EchoConfig]):
        kind = "echo"
        title = "Echo"
        config_type = EchoConfig

        async def send(self, events: Sequence[Event]) -> SendResult:
            try:
                body = [{"user": e.user_id or None, "type": e.type} for e in events]
                response = await self.client.post(self.config.url, json=body)
            except httpx.HTTPError as error:
                return transport_failure(error.request, error)
            return classify(recorded(response))

A connector whose vendor can forget a person sets :attr:`Connector.deletes` and writes
:meth:`Connector.delete`, which takes a :class:`DeletionSubject` (every identifier of the person)
and answers the same :class:`SendResult`: delivered once the vendor accepted the deletion
request, retried (408, 429, 5xx, no response), or failed for good (another 4xx, or an
identifier the vendor needs that the person lacks).
"""

from __future__ import annotations

import abc
import email.utils
import enum
import time
from collections.abc import Sequence
from typing import ClassVar, Generic, TypeVar

import httpx
import msgspec
import pydantic

from headwater.spec import Message

__all__ = [
    "Connector",
    "DeletionSubject",
    "Event",
    "Exchange",
    "Outcome",
    "SendResult",
    "classify",
    "not_supported",
    "recorded",
    "retry_after_seconds",
    "transport_failure",
    "unbuildable",
]

Event = Message
"""A Segment message as stored (:mod:`headwater.spec.messages`): typed, with every field it
was sent with (:func:`~headwater.spec.encode_message` gives its JSON back)."""

ConfigT = TypeVar("ConfigT", bound=pydantic.BaseModel)

_BODY_LIMIT = 4_096


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"  # transient: 408, 429, 5xx, timeouts, connection errors
    FAILED = "failed"  # permanent: other 4xx, or events the vendor refuses as invalid


class Exchange(msgspec.Struct, frozen=True, kw_only=True):
    """A request and its response as shown to users (bodies cut to 4 KB; masked by
    :class:`~headwater.destinations.redact.Redactor` before it is stored or shown)."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None = None
    response_headers: dict[str, str] = {}
    response_body: str = ""
    error: str | None = None  # a transport error (timeout, refused) instead of a response


class SendResult(msgspec.Struct, frozen=True, kw_only=True):
    """What happened to one batch.

    ``outcome`` applies to every event of the batch, except the indexes in ``failed`` (events
    the vendor refused one by one while accepting the rest: permanent failures).
    """

    outcome: Outcome
    exchange: Exchange | None = None
    retry_after: float | None = None  # seconds, from Retry-After or the vendor's own hint
    error: str | None = None
    failed: dict[int, str] = {}  # index in the batch -> reason


class DeletionSubject(msgspec.Struct, frozen=True, kw_only=True):
    """A person to forget at a destination: every identifier Headwater knows them by.

    ``regulation_id`` names the deletion request that asked for it (vendors that keep an audit
    field, Amplitude's ``requester``, receive it). The tuples may be empty, never all of them.
    """

    regulation_id: str
    user_ids: tuple[str, ...] = ()
    anonymous_ids: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


class Connector(abc.ABC, Generic[ConfigT]):
    """One destination type. Subclasses set ``kind``, ``title`` and ``config_type`` and write
    ``send``."""

    kind: ClassVar[str]
    """The registry name, also the name matched case-sensitively in ``integrations``."""
    title: ClassVar[str]
    """The product's name as its vendor spells it (``Customer.io``, ``HubSpot``)."""
    config_type: ClassVar[type[pydantic.BaseModel]]
    """The typed config; fields typed ``pydantic.SecretStr`` are encrypted at rest, never
    returned by the API and masked wherever deliveries show up
    (see :mod:`headwater.destinations.redact`)."""
    max_batch: ClassVar[int] = 1
    """How many events :meth:`send` accepts at once (1: no batching)."""
    categories: ClassVar[tuple[str, ...]] = ()
    """Default consent categories (for example ``("Analytics",)``); instances may override."""
    deletes: ClassVar[bool] = False
    """Whether :meth:`delete` forwards a person's deletion to the vendor (its user deletion
    API); connectors that leave it False answer every deletion with a permanent failure."""

    def __init__(self, config: ConfigT, client: httpx.AsyncClient) -> None:
        self.config = config
        self.client = client

    @abc.abstractmethod
    async def send(self, events: Sequence[Event]) -> SendResult:
        """Send ``events`` (at most :attr:`max_batch`); never raise for vendor or network errors.

        The result may hold the config's secrets as sent: the engine masks them
        (:class:`~headwater.destinations.redact.Redactor`) before anything is stored, shown
        or logged."""

    async def delete(self, subject: DeletionSubject) -> SendResult:
        """Ask the vendor to delete everything it holds about ``subject``; never raise for
        vendor or network errors (like :meth:`send`, the result may hold the config's secrets
        as sent: the caller masks them).

        One call makes every request the deletion needs (one per identifier where the vendor
        takes one, batches where it takes many); each is safe to repeat, since the caller
        retries the whole deletion after a retryable result. The default, for connectors that
        do not set :attr:`deletes`, is a permanent failure saying so: a result rather than
        ``NotImplementedError``, so that a caller that forwards to every destination records
        why nothing was sent instead of crashing."""
        return not_supported(f"{self.title} destinations do not forward deletions")

    def batch_limit(self) -> int:
        """How many events this instance's :meth:`send` takes at once: :attr:`max_batch`,
        unless its config asks for fewer (a webhook configured for single events)."""
        return self.max_batch

    async def close(self) -> None:
        """Release what the connector opened itself (the injected client is not its own)."""


def not_supported(reason: str) -> SendResult:
    """A permanent failure sent nowhere: the connector cannot do what was asked (a deletion its
    vendor has no API for, a person without the identifier the vendor needs)."""
    return SendResult(outcome=Outcome.FAILED, error=reason)


def recorded(response: httpx.Response) -> Exchange:
    """The exchange behind ``response``, bodies cut to 4 KB (secrets are masked by the engine,
    :mod:`headwater.destinations.redact`, before an exchange is stored or shown)."""
    request = response.request
    return Exchange(
        method=request.method,
        url=str(request.url),
        request_headers=dict(request.headers.items()),
        request_body=_text(request.content),
        status=response.status_code,
        response_headers=dict(response.headers.items()),
        response_body=_text(response.content),
    )


def transport_failure(request: httpx.Request, error: httpx.HTTPError) -> SendResult:
    """The result for a request that got no response: retryable (timeout, refused, reset),
    except when the client refused to send it (a header it cannot carry): that repeats
    on every try, so it is a permanent failure."""
    exchange = Exchange(
        method=request.method,
        url=str(request.url),
        request_headers=dict(request.headers.items()),
        request_body=_text(request.content),
        error=f"{type(error).__name__}: {error}" if str(error) else type(error).__name__,
    )
    outcome = Outcome.FAILED if isinstance(error, httpx.LocalProtocolError) else Outcome.RETRY
    return SendResult(outcome=outcome, exchange=exchange, error=exchange.error)


def unbuildable(method: str, url: str, error: ValueError | httpx.InvalidURL) -> SendResult:
    """A permanent failure for a request the client cannot even build from the config (a
    header value outside ASCII, a malformed URL): every retry would fail the same way."""
    reason = f"the request cannot be built: {type(error).__name__}: {error}"
    exchange = Exchange(method=method, url=url, request_headers={}, request_body="", error=reason)
    return SendResult(outcome=Outcome.FAILED, exchange=exchange, error=reason)


def classify(exchange: Exchange) -> SendResult:
    """The usual reading of an HTTP status: 2xx delivered; 408, 429 and 5xx retried (with
    ``Retry-After``); any other status a permanent failure."""
    status = exchange.status
    if status is None:
        return SendResult(outcome=Outcome.RETRY, exchange=exchange, error=exchange.error)
    if 200 <= status < 300:
        return SendResult(outcome=Outcome.DELIVERED, exchange=exchange)
    error = f"HTTP {status}: {exchange.response_body[:200]}"
    if status in (408, 429) or status >= 500:
        return SendResult(
            outcome=Outcome.RETRY,
            exchange=exchange,
            retry_after=retry_after_seconds(exchange.response_headers.get("retry-after")),
            error=error,
        )
    return SendResult(outcome=Outcome.FAILED, exchange=exchange, error=error)


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; None if absent or bad.

    >>> retry_after_seconds("7")
    7.0
    >>> retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
    10.0
    >>> retry_after_seconds("soon") is None
    True
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _text(content: bytes) -> str:
    text = content[:_BODY_LIMIT].decode("utf-8", "replace")
    return text + "…" if len(content) > _BODY_LIMIT else text
