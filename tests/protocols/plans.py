"""Plans shared by the tracking-plan tests."""

from __future__ import annotations

from typing import Any

ORDER_COMPLETED: dict[str, Any] = {
    "name": "Order Completed",
    "description": "A checkout finished",
    "labels": {"team": "checkout"},
    "schema": {
        "type": "object",
        "properties": {
            "order_id": {"type": "string"},
            "total": {"type": "number", "minimum": 0},
            "currency": {"type": "string", "enum": ["EUR", "USD"]},
            "coupon": {"type": "string", "pattern": "^[A-Z]{4}$"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
                    "required": ["sku"],
                },
            },
        },
        "required": ["order_id", "total"],
    },
}

WEB: dict[str, Any] = {
    "name": "Web",
    "description": "What the web app sends",
    "identify_traits": {
        "type": "object",
        "properties": {"email": {"type": "string"}, "age": {"type": "integer"}},
    },
    "group_traits": {"type": "object", "properties": {"plan": {"enum": ["free", "pro"]}}},
    "events": [
        ORDER_COMPLETED,
        {
            "name": "Signed Up",
            "schema": {"type": "object", "properties": {"method": {"type": "string"}}},
        },
    ],
}


def track(event: str, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "track", "event": event, "properties": properties, "userId": "u1", **extra}


VALID_ORDER = track("Order Completed", {"order_id": "o1", "total": 9.5, "currency": "EUR"})


SHOP: dict[str, Any] = {
    # Order Completed with a coupon of four capitals; identify traits email and plan.
    "name": "Shop",
    "identify_traits": {
        "type": "object",
        "properties": {"email": {"type": "string"}, "plan": {"enum": ["free", "pro"]}},
    },
    "events": [
        {
            "name": "Order Completed",
            "schema": {
                "type": "object",
                "properties": {
                    "order_id": {"type": "string"},
                    "coupon": {"type": "string", "pattern": "^[A-Z]{4}$"},
                },
                "required": ["order_id"],
            },
        }
    ],
}
BAD_ORDER: dict[str, Any] = {
    "type": "track",
    "event": "Order Completed",
    "properties": {"order_id": "o2", "coupon": "X"},
}
GOOD_ORDER: dict[str, Any] = {
    "type": "track",
    "event": "Order Completed",
    "properties": {"order_id": "o1"},
}
COUPON_X: dict[str, Any] = {
    "version": 1,
    "condition": {
        "type": "event",
        "event": "Order Completed",
        "where": [{"property": "coupon", "operator": "equals", "value": "X"}],
    },
}
