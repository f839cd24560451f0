"""Google Analytics 4: events through the Measurement Protocol (``/mp/collect``).

Mapping (after Segment's Google Analytics 4 destination):

- ``track`` → a GA4 event. Segment's e-commerce and lifecycle events become GA4's recommended
  events ("Order Completed" → ``purchase``, "Product Added" → ``add_to_cart``, "Signed Up" →
  ``sign_up``...; see ``RECOMMENDED``); other names are written GA4's way: lower snake case,
  letters, digits and underscores, starting with a letter, at most 40 characters.
- ``page`` → ``page_view`` with ``page_location``, ``page_title``, ``page_referrer``;
  ``screen`` → ``screen_view`` with ``screen_name``.
- Parameters: the properties with scalar values (strings cut to 100 characters; at most 25),
  ``order_id`` renamed ``transaction_id``, ``revenue`` (else ``total``) as ``value``, and
  ``products`` as GA4 ``items`` (``item_id``, ``item_name``, ``price``, ``quantity``...).
- ``client_id`` is the anonymousId (else the userId); ``user_id`` the userId; each event's
  ``timestamp_micros`` its timestamp (GA4 accepts events up to 72 hours old).
- ``identify``, ``group`` and ``alias`` are refused per event: the Measurement Protocol takes
  events only; an event with neither anonymousId nor userId is refused (GA4 needs a client id).

Requests: ``POST {endpoint}/mp/collect?measurement_id=...&api_secret=...`` with JSON
``{"client_id", ["user_id"], "events": [{"name", "params", "timestamp_micros"}]}``. All the
events of one request share a client and user, so a batch (at most 25 events, GA4's limit per
request) is sent as one request per (client_id, user_id).

No idempotency: GA4 has no deduplication key, so a retried batch (after a timeout, or because
another request of the same batch must be retried) can count an event twice.

Errors: GA4 answers 2xx even for events it will drop (it validates only on the debug
endpoint), so only HTTP errors are seen: 4xx other than 408/429 permanent, 429 and 5xx
retried. Default consent category: Analytics.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pydantic

from headwater.connectors._common import (
    Part,
    call,
    combine,
    epoch_micros,
    mapping,
    sort_out,
    text,
)
from headwater.connectors.base import Connector, Event, SendResult
from headwater.spec import Page, PageContext, Screen, Track, properties_of

__all__ = ["RECOMMENDED", "GoogleAnalytics4", "GoogleAnalytics4Config", "ga4_name"]

RECOMMENDED = {
    "Order Completed": "purchase",
    "Order Refunded": "refund",
    "Product Added": "add_to_cart",
    "Product Removed": "remove_from_cart",
    "Product Viewed": "view_item",
    "Product Clicked": "select_item",
    "Product List Viewed": "view_item_list",
    "Product Added to Wishlist": "add_to_wishlist",
    "Cart Viewed": "view_cart",
    "Checkout Started": "begin_checkout",
    "Payment Info Entered": "add_payment_info",
    "Promotion Viewed": "view_promotion",
    "Promotion Clicked": "select_promotion",
    "Products Searched": "search",
    "Signed Up": "sign_up",
    "Signed In": "login",
}
_MAX_PARAMS = 25
_MAX_VALUE = 100
_RENAMED = {"order_id": "transaction_id", "query": "search_term"}
_ITEM_FIELDS = {
    "sku": "item_id",
    "product_id": "item_id",  # after sku: the product id wins when both are given
    "name": "item_name",
    "brand": "item_brand",
    "category": "item_category",
    "variant": "item_variant",
    "price": "price",
    "quantity": "quantity",
    "coupon": "coupon",
}
_NOT_NAME = re.compile(r"[^a-z0-9_]+")


class GoogleAnalytics4Config(pydantic.BaseModel):
    measurement_id: str = pydantic.Field(description="the web stream's G-XXXXXXXXXX")
    api_secret: pydantic.SecretStr
    endpoint: str = pydantic.Field(
        default="https://www.google-analytics.com",
        description="https://region1.google-analytics.com to collect in the EU",
    )


def ga4_name(name: str) -> str:
    """A Segment event name as a GA4 event name.

    >>> ga4_name("Order Completed"), ga4_name("2FA: Code Sent!")
    ('purchase', 'e_2fa_code_sent')
    """
    if name in RECOMMENDED:
        return RECOMMENDED[name]
    snake = _NOT_NAME.sub("_", name.strip().lower()).strip("_") or "event"
    return (snake if snake[0].isalpha() else f"e_{snake}")[:40]


class GoogleAnalytics4(Connector[GoogleAnalytics4Config]):
    kind = "google_analytics_4"
    title = "Google Analytics 4"
    config_type = GoogleAnalytics4Config
    max_batch = 25
    categories = ("Analytics",)

    async def send(self, events: Sequence[Event]) -> SendResult:
        accepted, refused = sort_out(events, _refusal)
        groups: dict[tuple[str, str | None], list[int]] = {}
        for index in accepted:
            event = events[index]
            client = event.anonymous_id or event.user_id or ""
            groups.setdefault((client, event.user_id or None), []).append(index)
        parts = [
            Part(indexes, await self._collect(client, user, [events[i] for i in indexes]))
            for (client, user), indexes in groups.items()
        ]
        return combine(parts, refused)

    async def _collect(self, client: str, user: str | None, events: Sequence[Event]) -> SendResult:
        secret = self.config.api_secret.get_secret_value()
        body: dict[str, Any] = {"client_id": client}
        if user:
            body["user_id"] = user
        body["events"] = [_ga4_event(event) for event in events]
        sent = await call(
            self.client,
            "POST",
            f"{self.config.endpoint.rstrip('/')}/mp/collect",
            params={"measurement_id": self.config.measurement_id, "api_secret": secret},
            json=body,
        )
        return sent.result


def _refusal(event: Event) -> str | None:
    if not isinstance(event, Track | Page | Screen):
        return f"GA4's Measurement Protocol takes events only, not {event.type} calls"
    if isinstance(event, Track) and not event.event:
        return "a track call without an event name"
    if not (event.anonymous_id or event.user_id):
        return "GA4 needs a client id: the event has neither anonymousId nor userId"
    return None


def _ga4_event(event: Event) -> dict[str, Any]:
    props = properties_of(event)
    params = _params(props)
    if isinstance(event, Page):
        page = event.context.page or PageContext()
        name = "page_view"
        extra = {
            "page_location": props.get("url") or page.url,
            "page_title": props.get("title") or page.title,
            "page_referrer": props.get("referrer") or page.referrer,
        }
        params.update({key: value for key, value in extra.items() if value})
    elif isinstance(event, Screen):
        name = "screen_view"
        params["screen_name"] = event.name or text(props.get("name")) or ""
    else:
        name = ga4_name(event.event if isinstance(event, Track) else "")
    return {
        "name": name,
        "params": dict(list(params.items())[:_MAX_PARAMS]),
        "timestamp_micros": epoch_micros(event),
    }


def _params(props: Mapping[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {
        _RENAMED.get(key, key): _scalar(value)
        for key, value in props.items()
        if _scalar(value) is not None
    }
    value = next((props[k] for k in ("revenue", "total", "value") if _number(props.get(k))), None)
    if value is not None:
        params["value"] = value
    products = props.get("products")
    if isinstance(products, list):
        params["items"] = [_item(mapping(product)) for product in products]
    return params


def _item(product: Mapping[str, Any]) -> dict[str, Any]:
    return {
        field: _scalar(product[key])
        for key, field in _ITEM_FIELDS.items()
        if _scalar(product.get(key)) is not None
    }


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scalar(value: Any) -> str | int | float | None:
    """A parameter value GA4 takes: a number, or a string cut to 100 characters."""
    if _number(value):
        return value  # type: ignore[no-any-return]
    if isinstance(value, str):
        return value[:_MAX_VALUE]
    return None
