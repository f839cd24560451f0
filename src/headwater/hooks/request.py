"""A webhook request as the pure rules see it, and its body read as JSON, a form or text.

>>> request = HookRequest(method="POST", url="https://h.example/v1/hooks/k", body=b'{"a": 1}',
...                       headers={"content-type": "application/json"})
>>> parsed_body(request)
{'a': 1}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["HookRequest", "UnreadableBody", "form_params", "parsed_body", "scope_of"]

MAX_BODY_DEPTH = 64


class UnreadableBody(ValueError):
    """The body says it is JSON (or looks like it) but does not parse; the message says why."""


@dataclass(frozen=True, kw_only=True)
class HookRequest:
    """``headers``' names are lower case; ``url`` is the URL as the sender addressed it
    (scheme, host, path and query), which some signatures cover."""

    method: str
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def form_params(request: HookRequest) -> list[tuple[str, str]]:
    """The form-encoded body's parameters in order (empty unless the body is a form)."""
    if request.content_type != "application/x-www-form-urlencoded":
        return []
    return parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)


def parsed_body(request: HookRequest) -> Any:
    """The body as JSON (when it says so or starts like JSON), as an object of a form's
    fields (the last value of a repeated name), as text otherwise, or None when empty."""
    if not request.body.strip():
        return None
    if request.content_type == "application/x-www-form-urlencoded":
        return dict(form_params(request))
    text = request.body.decode("utf-8", "replace")
    looks_json = text.lstrip()[:1] in ("{", "[")
    if request.content_type.endswith("json") or looks_json:
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as error:
            message = error.msg if isinstance(error, json.JSONDecodeError) else "too deep"
            raise UnreadableBody(f"the body is not valid JSON: {message}") from None
        _check_depth(value)
        return value
    return text


def _check_depth(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_BODY_DEPTH:
            raise UnreadableBody(f"the body is nested more than {MAX_BODY_DEPTH} levels deep")
        children = current.values() if isinstance(current, dict) else current
        if isinstance(current, dict | list):
            stack.extend((child, depth + 1) for child in children)


def scope_of(request: HookRequest, body: Any) -> dict[str, Any]:
    """The names rules, templates and expressions read: ``body``, ``headers``, ``query``,
    ``method``."""
    return {
        "body": body,
        "headers": dict(request.headers),
        "query": dict(request.query),
        "method": request.method,
    }
