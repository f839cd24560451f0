"""What the SaaS connectors share: rules read from Segment messages, one HTTP call, merging.

Reading: connectors read the typed message (:mod:`headwater.spec.messages`) directly; the
rules here are what several vendors derive from it the same way (who the event is about, the
email wherever it was sent, Segment's page and screen event names, the timestamp in each
vendor's unit). None raises::

    >>> from headwater.spec import message_of
    >>> event = message_of({"type": "identify", "userId": "u1", "traits": {"email": "A@x.io"}})
    >>> (email(event), distinct_id(event))
    ('A@x.io', 'u1')

Calling: :func:`call` sends one request and returns a :class:`Sent` (the classified
:class:`SendResult` and the parsed JSON body), turning transport errors into retries (the engine
masks the config's secrets in what is recorded).

Merging: a connector that makes several requests for one batch (one per vendor endpoint, one per
user) describes each with a :class:`Part` and folds them with :func:`combine`; the requests of
one deletion (one per identifier, or per batch of them) fold with :func:`all_of`.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from headwater.connectors.base import (
    Event,
    Outcome,
    SendResult,
    classify,
    recorded,
    transport_failure,
    unbuildable,
)
from headwater.spec import Page, Screen, Track, parse_timestamp, properties_of, traits_of

__all__ = [
    "Part",
    "Sent",
    "all_of",
    "basic_auth",
    "call",
    "chunked",
    "combine",
    "distinct_id",
    "email",
    "epoch_micros",
    "epoch_ms",
    "event_name",
    "iso_time",
    "mapping",
    "md5_hex",
    "occurred_at",
    "partial",
    "per_reset_header",
    "scalar",
    "sort_out",
    "stable_uuid",
    "text",
    "trait",
    "unix_seconds",
    "waiting",
]

_NAMESPACE = uuid.UUID("1b671a64-40d5-491e-99b0-da01ff1f3341")


# -- reading events ---------------------------------------------------------------------------


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def text(value: Any) -> str | None:
    """A non-empty identifier as a string: strings as they are, numbers written out."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return value if isinstance(value, str) and value else None


def distinct_id(event: Event) -> str | None:
    """The user id, else the anonymous id: who the event is about."""
    return event.user_id or event.anonymous_id or None


def trait(event: Event, *names: str) -> Any:
    """The first of ``names`` present (not None) in the traits, for spellings like
    ``firstName``/``first_name``."""
    found = traits_of(event)
    return next((found[name] for name in names if found.get(name) is not None), None)


def email(event: Event) -> str | None:
    """The email in traits, ``context.traits`` or (for track calls) properties."""
    for source in (traits_of(event), event.context.traits, properties_of(event)):
        value = text(source.get("email"))
        if value and "@" in value:
            return value
    return None


def event_name(event: Event, *, page_format: str = "Viewed {} Page") -> str | None:
    """A track's ``event``; for page and screen calls their name in ``page_format`` (with
    "Screen" for screens), or "Loaded a Page"/"Loaded a Screen" when unnamed."""
    if isinstance(event, Track):
        return event.event or None
    if not isinstance(event, Page | Screen):
        return None
    name = event.name or text(properties_of(event).get("name"))
    noun = "Page" if isinstance(event, Page) else "Screen"
    if name is None:
        return f"Loaded a {noun}"
    return page_format.replace("Page", noun).format(name)


def occurred_at(event: Event) -> datetime:
    """The event's ``timestamp`` (set on every normalised event); now if it is unreadable."""
    value = event.timestamp
    if isinstance(value, str):
        try:
            return parse_timestamp(value)
        except ValueError:
            pass
    return datetime.now(UTC)


def epoch_ms(event: Event) -> int:
    """The timestamp in Unix milliseconds, exactly (no float rounding)."""
    return epoch_micros(event) // 1000


def epoch_micros(event: Event) -> int:
    """The timestamp in Unix microseconds, exactly."""
    moment = occurred_at(event)
    return int(moment.replace(microsecond=0).timestamp()) * 1_000_000 + moment.microsecond


def iso_time(event: Event) -> str:
    """The timestamp as UTC ISO-8601 with milliseconds and ``Z``."""
    return occurred_at(event).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def unix_seconds(value: Any) -> int | None:
    """An ISO-8601 trait (``createdAt``, ``birthday``) as Unix seconds; None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return int(parse_timestamp(value).timestamp())
    except ValueError:
        return None


def scalar(value: Any) -> bool:
    """Whether ``value`` is a string, number or boolean (what flat vendor properties take)."""
    return isinstance(value, str | int | float | bool)


def stable_uuid(message_id: str) -> str:
    """``message_id`` if it is a UUID, else a UUID derived from it (the same every time), for
    vendors whose idempotency key must be a UUID."""
    try:
        return str(uuid.UUID(message_id))
    except ValueError:
        return str(uuid.uuid5(_NAMESPACE, message_id))


def md5_hex(value: str) -> str:
    """The hex MD5 of ``value`` (an identifier some vendors derive, not a security measure)."""
    return hashlib.md5(value.encode(), usedforsecurity=False).hexdigest()


# -- one HTTP call ----------------------------------------------------------------------------


def basic_auth(username: str, password: str = "") -> str:
    """An ``Authorization`` header value for HTTP Basic authentication.

    >>> basic_auth("token")
    'Basic dG9rZW46'
    """
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass(frozen=True)
class Sent:
    """A classified response (or transport failure) and its JSON body (None if not JSON)."""

    result: SendResult
    body: Any = None

    @property
    def status(self) -> int | None:
        exchange = self.result.exchange
        return exchange.status if exchange else None


async def call(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    json: Any = None,
    **options: Any,
) -> Sent:
    """Send one request (``options`` as for ``httpx.AsyncClient.request``) and classify its
    response the usual way; never raises for network errors or a request the config makes
    unbuildable (:func:`~headwater.connectors.base.unbuildable`)."""
    try:
        request = client.build_request(method, url, json=json, **options)
    except (ValueError, httpx.InvalidURL) as error:
        return Sent(unbuildable(method, url, error))
    try:
        response = await client.send(request)
    except httpx.HTTPError as error:
        return Sent(transport_failure(request, error))
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    return Sent(classify(recorded(response)), body)


def waiting(result: SendResult, seconds: float) -> SendResult:
    """``result`` with ``retry_after`` set to ``seconds`` when it is a retry that names no wait
    (for vendors that document a pause instead of sending ``Retry-After``)."""
    if result.outcome is not Outcome.RETRY or result.retry_after is not None:
        return result
    return SendResult(
        outcome=Outcome.RETRY, exchange=result.exchange, retry_after=seconds, error=result.error
    )


def per_reset_header(result: SendResult) -> SendResult:
    """A rate-limited ``result`` waiting until ``X-RateLimit-Reset`` (epoch seconds; Braze's and
    Intercom's header) when it names no ``Retry-After``."""
    headers = result.exchange.response_headers if result.exchange else {}
    reset = headers.get("x-ratelimit-reset", "")
    return waiting(result, max(0.0, int(reset) - time.time())) if reset.isdigit() else result


def partial(result: SendResult, failed: Mapping[int, str], size: int) -> SendResult:
    """``result`` read as a partial success: delivered except the ``failed`` indexes (out of
    ``size``), or failed outright when the vendor refused every event."""
    if len(failed) >= size:
        error = next(iter(failed.values()), result.error)
        return SendResult(
            outcome=Outcome.FAILED, exchange=result.exchange, error=error, failed=dict(failed)
        )
    return SendResult(outcome=Outcome.DELIVERED, exchange=result.exchange, failed=dict(failed))


def sort_out(
    events: Sequence[Event], refusal: Callable[[Event], str | None]
) -> tuple[list[int], dict[int, str]]:
    """The indexes of the events a vendor can take, and the others with ``refusal``'s reason."""
    accepted: list[int] = []
    refused: dict[int, str] = {}
    for index, event in enumerate(events):
        reason = refusal(event)
        if reason is None:
            accepted.append(index)
        else:
            refused[index] = reason
    return accepted, refused


# -- merging several calls --------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """The result of one request and the batch indexes of the events it carried."""

    indexes: Sequence[int]
    result: SendResult


@dataclass
class _Merged:
    failed: dict[int, str] = field(default_factory=dict)
    retry: list[SendResult] = field(default_factory=list)
    delivered: bool = False


def combine(parts: Sequence[Part], refused: Mapping[int, str]) -> SendResult:
    """One result for a batch sent as several requests, plus events refused before sending
    (``parts`` and ``refused`` together name every index of the batch once).

    Any retryable part makes the whole batch retry (every request is safe to repeat: the
    connectors send idempotency keys or set values); otherwise the batch is delivered except
    the refused events and those of failed parts. Nothing delivered at all is a failure.

    >>> ok = SendResult(outcome=Outcome.DELIVERED)
    >>> combine([Part([0], ok)], {1: "no email"}).failed
    {1: 'no email'}
    """
    if len(parts) == 1 and not refused:
        return parts[0].result  # the whole batch in one request
    merged = _Merged(failed=dict(refused))
    for part in parts:
        result = part.result
        merged.failed.update({part.indexes[i]: why for i, why in result.failed.items()})
        if result.outcome is Outcome.RETRY:
            merged.retry.append(result)
        elif result.outcome is Outcome.FAILED:
            reason = result.error or "refused"
            merged.failed.update({i: reason for i in part.indexes if i not in merged.failed})
        else:
            merged.delivered = True
    last = parts[-1].result if parts else None
    if merged.retry:
        waits = [r.retry_after for r in merged.retry if r.retry_after is not None]
        first = merged.retry[0]
        return SendResult(
            outcome=Outcome.RETRY,
            exchange=first.exchange,
            retry_after=max(waits) if waits else None,
            error=first.error,
            failed=merged.failed,
        )
    if not merged.delivered:
        failing = next((p.result for p in parts if p.result.outcome is Outcome.FAILED), None)
        return SendResult(
            outcome=Outcome.FAILED,
            exchange=failing.exchange if failing else None,
            error=failing.error if failing else next(iter(refused.values()), None),
            failed=merged.failed,
        )
    return SendResult(
        outcome=Outcome.DELIVERED, exchange=last.exchange if last else None, failed=merged.failed
    )


# -- deletions ----------------------------------------------------------------------------------


def chunked(items: Sequence[str], size: int) -> list[Sequence[str]]:
    """``items`` in slices of at most ``size`` (a vendor's batch limit), in order.

    >>> chunked(["a", "b", "c"], 2)
    [['a', 'b'], ['c']]
    """
    return [items[start : start + size] for start in range(0, len(items), size)]


def all_of(results: Sequence[SendResult]) -> SendResult:
    """One result for the requests of one deletion (at least one): retried if any request is
    (the whole deletion is repeated; deletions are idempotent), else failed if any failed,
    else delivered. The result shown is the first retried or failed request's, or the last.

    >>> ok, no = SendResult(outcome=Outcome.DELIVERED), SendResult(outcome=Outcome.FAILED)
    >>> all_of([ok, no]).outcome.value
    'failed'
    """
    retried = [r for r in results if r.outcome is Outcome.RETRY]
    if retried:
        waits = [r.retry_after for r in retried if r.retry_after is not None]
        first = retried[0]
        return SendResult(
            outcome=Outcome.RETRY,
            exchange=first.exchange,
            retry_after=max(waits) if waits else None,
            error=first.error,
        )
    failed = next((r for r in results if r.outcome is Outcome.FAILED), None)
    return failed if failed is not None else results[-1]
