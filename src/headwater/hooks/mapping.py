"""Rules: from a webhook request to Segment messages (pure, no I/O).

Each rule whose condition holds emits one message (or one per element of its ``each`` array);
``match: first`` stops at the first rule that holds. A field that cannot be made (a bad
timestamp, a failing expression) fails that message alone, with its reason; the others go on.
The optional transformation then receives ``messages`` with the request's names and returns
the messages to store; its failure fails the request's messages, with the reason.

>>> from headwater.hooks.model import parse_config
>>> from headwater.hooks.request import HookRequest
>>> config = parse_config({"auth": {"type": "none"}, "rules": [{"type": "track",
...     "set": {"event": "body.kind", "userId": "body.user"}}]})
>>> body = b'{"kind": "Paid", "user": "u1"}'
>>> out = map_request(config, HookRequest(method="POST", url="u", body=body))
>>> out.messages[0]["event"], out.messages[0]["userId"]
('Paid', 'u1')
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from headwater.hooks.expressions import Budget, ExpressionError, evaluate
from headwater.hooks.functions import is_index
from headwater.hooks.model import Condition, HookConfig, Rule, TimestampSpec, ValueSpec
from headwater.hooks.request import HookRequest, UnreadableBody, parsed_body, scope_of

__all__ = [
    "MAX_MESSAGES",
    "Answer",
    "Mapped",
    "challenge",
    "holds",
    "lookup",
    "map_request",
    "render",
]

MAX_MESSAGES = 1_000
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


@dataclass
class Mapped:
    """What a request became: the messages, the reasons some could not be made (or, for the
    transformation or an unreadable body, why none could), and the names of the rules that
    held."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)


def lookup(scope: dict[str, Any], path: str) -> Any:
    """The value at ``path`` (``body.items.0.sku``, ``headers.x-topic``), or None."""
    value: Any = scope
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and is_index(part):
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else None
        else:
            return None
        if value is None:
            return None
    return value


def render(template: str, scope: dict[str, Any]) -> str:
    """``template`` with each ``{path}`` replaced by its value as text (empty when missing)."""

    def one(match: re.Match[str]) -> str:
        value = lookup(scope, match.group(1).strip())
        if value is None:
            return ""
        return value if isinstance(value, str) else _text(value)

    return _PLACEHOLDER.sub(one, template)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def holds(condition: Condition, scope: dict[str, Any]) -> bool:
    """Whether ``condition`` holds for the request's ``scope``."""
    if condition.all is not None:
        return all(holds(c, scope) for c in condition.all)
    if condition.any is not None:
        return any(holds(c, scope) for c in condition.any)
    if condition.not_ is not None:
        return not holds(condition.not_, scope)
    value = lookup(scope, condition.path or "")
    expected = condition.value
    op = condition.op or "eq"
    match op:
        case "exists":
            return value is not None
        case "missing":
            return value is None
        case "eq":
            return _same(value, expected)
        case "ne":
            return not _same(value, expected)
        case "in":
            return isinstance(expected, list) and any(_same(value, e) for e in expected)
        case "starts_with":
            return isinstance(value, str) and value.startswith(str(expected))
        case "contains":
            return isinstance(value, str | list) and expected in value
        case "gt" | "lt":
            return _ordered(op, value, expected)
    return False


def _same(value: Any, expected: Any) -> bool:
    """``value`` equals ``expected``, or is a number or true/false that reads as the text
    ``expected`` (a value typed in the rules form is text: "true" matches ``true``, "42"
    matches ``42``).

    >>> _same(True, "true"), _same(42, "42"), _same("42", 42), _same(None, "None")
    (True, True, False, False)
    """
    if value == expected:
        return True
    return (
        isinstance(expected, str)
        and isinstance(value, bool | int | float)
        and (_text(value) == expected)
    )


def _ordered(op: str, value: Any, expected: Any) -> bool:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (value, expected))
    if not numbers and not (isinstance(value, str) and isinstance(expected, str)):
        return False
    return bool(value > expected) if op == "gt" else bool(value < expected)


def map_request(
    config: HookConfig, request: HookRequest, *, budget: Budget | None = None
) -> Mapped:
    """Apply ``config``'s rules and transformation to ``request``."""
    budget = budget or Budget()
    out = Mapped()
    try:
        scope = scope_of(request, parsed_body(request))
    except UnreadableBody as error:
        out.errors.append(str(error))
        return out
    for index, rule in enumerate(config.rules):
        if rule.when is not None and not holds(rule.when, scope):
            continue
        out.matched.append(rule.name or f"rule {index + 1}")
        _emit(rule, index, scope, request.body, out, budget)
        if config.match == "first":
            break
    if config.transform:
        _transform(config.transform, scope, out, budget)
    if len(out.messages) > MAX_MESSAGES:
        out.errors.append(f"the request made more than {MAX_MESSAGES} messages; none was kept")
        out.messages = []
    return out


def _emit(
    rule: Rule, index: int, scope: dict[str, Any], body: bytes, out: Mapped, budget: Budget
) -> None:
    label = rule.name or f"rule {index + 1}"
    if rule.each is None:
        items: list[tuple[int | None, dict[str, Any]]] = [(None, scope)]
    else:
        found = lookup(scope, rule.each)
        if not isinstance(found, list):
            out.errors.append(f"{label}: {rule.each} is not a list")
            return
        items = [(i, {**scope, "item": item}) for i, item in enumerate(found)]
    for position, item_scope in items:
        where = label if position is None else f"{label}, item {position}"
        try:
            out.messages.append(_message(rule, item_scope, body, index, position, budget))
        except (ValueError, ExpressionError) as error:
            out.errors.append(f"{where}: {error}")


def _message(
    rule: Rule,
    scope: dict[str, Any],
    body: bytes,
    index: int,
    position: int | None,
    budget: Budget,
) -> dict[str, Any]:
    message: dict[str, Any] = {"type": rule.type}
    for key, spec in rule.set.items():
        value = _value(spec, scope, budget)
        if value is not None:
            _put(message, key, value)
    if rule.message_id == "hash":
        seed = body + f"\x00{index}\x00{position}".encode()
        message["messageId"] = "hook-" + hashlib.sha256(seed).hexdigest()[:32]
    else:
        message_id = _value(rule.message_id, scope, budget)
        if message_id is None or message_id == "":
            raise ValueError("the messageId field is missing")
        message["messageId"] = _text(message_id)
    if rule.timestamp is not None:
        message["timestamp"] = _timestamp(rule.timestamp, scope)
    return message


def _value(spec: str | ValueSpec, scope: dict[str, Any], budget: Budget) -> Any:
    if isinstance(spec, str):
        return lookup(scope, spec)
    if spec.path is not None:
        value = lookup(scope, spec.path)
    elif spec.template is not None:
        value = render(spec.template, scope)
    elif spec.expr is not None:
        value = evaluate(spec.expr, scope, budget=budget)
    else:
        value = spec.const
    return spec.default if value is None else value


def _put(message: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    target = message
    for part in parts[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[parts[-1]] = value


def _timestamp(spec: TimestampSpec, scope: dict[str, Any]) -> str:
    value = lookup(scope, spec.path)
    if value is None:
        raise ValueError(f"the timestamp field {spec.path} is missing")
    try:
        if spec.format == "iso8601":
            text = str(value).replace("Z", "+00:00")
            moment = datetime.fromisoformat(text)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        else:
            number = float(value)
            seconds = number / 1000 if spec.format == "unix_ms" else number
            moment = datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        raise ValueError(
            f"the timestamp {str(value)[:40]!r} at {spec.path} is not {spec.format}"
        ) from None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _transform(source: str, scope: dict[str, Any], out: Mapped, budget: Budget) -> None:
    try:
        result = evaluate(source, {**scope, "messages": out.messages}, budget=budget)
    except ExpressionError as error:
        out.errors.append(f"transformation: {error}")
        out.messages = []
        return
    if result is None:
        out.messages = []
    elif isinstance(result, dict):
        out.messages = [result]
    elif isinstance(result, list) and all(isinstance(m, dict) for m in result):
        out.messages = result
    else:
        out.errors.append("transformation: it must return a message, a list of messages or null")
        out.messages = []


@dataclass(frozen=True)
class Answer:
    """A verification request's answer: the status, its media type and its body."""

    status: int
    media_type: str
    body: str


def challenge(config: HookConfig, request: HookRequest) -> Answer | None:
    """The answer to ``request`` when it is a verification request the reply rule echoes,
    else None. The echoed value is sent back as text (or as JSON under ``json_key``)."""
    reply = config.reply
    if reply is None or request.method.upper() not in reply.methods:
        return None
    try:
        scope = scope_of(request, parsed_body(request))
    except UnreadableBody:
        return None
    if not holds(reply.when, scope):
        return None
    value = lookup(scope, reply.echo)
    text = "" if value is None else value if isinstance(value, str) else _text(value)
    if reply.json_key is not None:
        return Answer(reply.status, "application/json", json.dumps({reply.json_key: text}))
    return Answer(reply.status, "text/plain", text)
