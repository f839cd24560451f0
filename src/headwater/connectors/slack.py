"""Slack: post a message to a channel through an incoming webhook, one per track event.

Slack is a place people read, not a store of customer data, so only ``track`` calls become
messages; identify, page, screen, group and alias calls are *delivered with nothing to do*
(Segment's Slack destination behaves the same way). A track call is posted when its event name
has a template in ``templates``, or with ``default_template`` when ``send_all_events`` is on;
otherwise it too is delivered with nothing to do: choosing which events deserve a message is
the config's job, not a failure.

Templates substitute ``{{path}}`` with the value at that dotted path in the event
(``{{properties.plan}}``, ``{{context.page.url}}``) and ``{{user}}`` with the best name for who
did it (``traits.name``, else the email, else ``userId``, else ``anonymousId``). Substituted
values are escaped for Slack (``&``, ``<``, ``>``); the template's own text is not, so it may use
Slack markup such as ``<https://example.com|link>``::

    SlackConfig(
        webhook_url="https://hooks.slack.com/services/T000/B000/XXXX",
        templates={"Order Completed": "{{user}} ordered *{{properties.total}}*"},
    )

Request: ``POST webhook_url`` with JSON ``{"text": ..., ["channel", "username", "icon_emoji"]}``
(channel, username and icon are honoured only by legacy webhooks; app webhooks post where they
were installed). Slack answers ``200 ok``; 400 ``invalid_payload``, 403 ``action_prohibited``,
404 ``channel_not_found``/``no_service`` and 410 ``channel_is_archived`` are permanent; 429
(with ``Retry-After``; Slack allows about one message per second) and 5xx are retried. The
webhook URL is the credential: it is masked in recorded exchanges.

No batching (one message per event) and no idempotency key: Slack has none, so a retry after
a lost response can post a message twice. Default consent category: Functional.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pydantic

from headwater.connectors._common import (
    call,
    distinct_id,
    email,
    text,
    trait,
)
from headwater.connectors.base import Connector, Event, Outcome, SendResult
from headwater.spec import Track, message_builtins

__all__ = ["Slack", "SlackConfig", "render"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.$-]+)\s*\}\}")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


class SlackConfig(pydantic.BaseModel):
    webhook_url: pydantic.SecretStr = pydantic.Field(
        description="the incoming webhook URL (https://hooks.slack.com/services/...)"
    )
    templates: dict[str, str] = pydantic.Field(
        default_factory=dict, description="event name -> message template"
    )
    send_all_events: bool = pydantic.Field(
        default=False, description="post track events without a template with default_template"
    )
    default_template: str = "{{user}} did *{{event}}*"
    channel: str | None = None
    username: str | None = None
    icon_emoji: str | None = None


def render(template: str, event: Event) -> str:
    """``template`` with each ``{{path}}`` replaced by the event's value there (a dotted path
    into the message as sent; escaped for Slack; missing values become empty).

    >>> render("{{user}} bought {{properties.item}}",
    ...        message_of({"type": "track", "userId": "u1", "properties": {"item": "<"}}))
    'u1 bought &lt;'
    """
    document = message_builtins(event)

    def value(match: re.Match[str]) -> str:
        path = match.group(1)
        found: Any = _who(event) if path == "user" else _lookup(document, path.split("."))
        if found is None:
            return ""
        shown = ("true" if found else "false") if isinstance(found, bool) else str(found)
        return shown.translate(_ESCAPES)

    return _PLACEHOLDER.sub(value, template)


def _lookup(value: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _who(event: Event) -> str:
    return text(trait(event, "name")) or email(event) or distinct_id(event) or "someone"


class Slack(Connector[SlackConfig]):
    kind = "slack"
    title = "Slack"
    config_type = SlackConfig
    categories = ("Functional",)

    async def send(self, events: Sequence[Event]) -> SendResult:
        (event,) = events
        template = self._template(event)
        if template is None:
            return SendResult(outcome=Outcome.DELIVERED)
        config = self.config
        body: dict[str, str] = {"text": render(template, event)}
        for name, option in (
            ("channel", config.channel),
            ("username", config.username),
            ("icon_emoji", config.icon_emoji),
        ):
            if option:
                body[name] = option
        url = config.webhook_url.get_secret_value()
        return (await call(self.client, "POST", url, json=body)).result

    def _template(self, event: Event) -> str | None:
        """The template for ``event``, or None when it should not become a message."""
        if not isinstance(event, Track):
            return None
        name = event.event
        if name in self.config.templates:
            return self.config.templates[name]
        return self.config.default_template if self.config.send_all_events else None
