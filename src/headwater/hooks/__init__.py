"""Webhook sources: a URL per source, the sender's authentication, declarative rules (and an
optional transformation) from a request to Segment messages, presets for widely used senders,
and the recent requests each source's debugger shows. The API composes this package with
collection: the mapped messages are stored by the tracking API's own path."""

from headwater.hooks.cache import Receivers
from headwater.hooks.expressions import ExpressionError
from headwater.hooks.live import watch_requests
from headwater.hooks.mapping import Answer, Mapped, challenge, map_request
from headwater.hooks.model import HookConfig, parse_config, plain_errors
from headwater.hooks.presets import PRESETS, Preset
from headwater.hooks.redact import kept_body, redacted_headers, redacted_query
from headwater.hooks.request import HookRequest
from headwater.hooks.service import (
    Receiver,
    configure,
    create,
    describe,
    history,
    receiver,
    record,
    rotate,
    validated,
)
from headwater.hooks.signatures import AuthFailure, verify
from headwater.hooks.store import forget_requests
from headwater.hooks.views import HookRequestView, HookTestView, HookView, PresetView, RotatedView

__all__ = [
    "PRESETS",
    "Answer",
    "AuthFailure",
    "ExpressionError",
    "HookConfig",
    "HookRequest",
    "HookRequestView",
    "HookTestView",
    "HookView",
    "Mapped",
    "Preset",
    "PresetView",
    "Receiver",
    "Receivers",
    "RotatedView",
    "challenge",
    "configure",
    "create",
    "describe",
    "forget_requests",
    "history",
    "kept_body",
    "map_request",
    "parse_config",
    "plain_errors",
    "receiver",
    "record",
    "redacted_headers",
    "redacted_query",
    "rotate",
    "validated",
    "verify",
    "watch_requests",
]
