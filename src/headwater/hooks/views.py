"""The hooks capability's read models, as the management API declares them."""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

from headwater.spec import Timestamp

__all__ = ["HookRequestView", "HookTestView", "HookView", "PresetView", "RotatedView"]


class HookView(TypedDict):
    source_id: int
    name: str
    enabled: bool
    url_key: str
    path: str
    """``/v1/hooks/{url_key}``: the URL the sender posts to, on Headwater's public address."""
    url: str | None
    """``path`` on ``HEADWATER_PUBLIC_URL``, when that is set."""
    preset: str | None
    config: dict[str, Any]
    """The configuration; each secret shown as ``{"set": true}``."""
    updated_at: Timestamp


class RotatedView(TypedDict):
    id: int
    """The source's id."""
    hook: HookView
    secret: str | None
    """The new secret, shown this once (None when only the URL changed)."""


class HookRequestView(TypedDict):
    id: int
    received_at: Timestamp
    method: str
    headers: dict[str, str]
    query: dict[str, str]
    body: str | None
    body_bytes: int
    status: int
    outcome: str
    """``stored`` (messages sent on), ``none`` (the rules made no message), ``failed`` (the
    mapping or transformation failed: see ``errors``), ``refused`` (authentication or a bad
    request: see ``reason``), ``replied`` (a verification challenge answered)."""
    reason: str | None
    messages: list[dict[str, Any]]
    errors: list[str]


class HookTestView(TypedDict):
    messages: list[dict[str, Any]]
    errors: list[str]
    matched: list[str]
    reply: str | None
    """What a verification request would be answered with, when the reply rule holds."""


class PresetView(TypedDict):
    name: str
    title: str
    secret_field: str
    secret_label: str
    docs: str
    config: dict[str, Any]
