"""PII rules: which fields of a message are personal, and what happens to them (pure, no I/O).

A rule names a field by up to four conditions, all of which must hold:

- ``path``: the field's dotted path from the message root (``properties.email``,
  ``context.traits.phone``); ``*`` stands for one segment (``traits.*``), ``**`` for any number
  (``properties.**``); an array's elements are ``[]`` (``properties.items[].email``), as in the
  observed schema;
- ``key``: a regular expression searched in the field's own key (``(?i)e-?mail``);
- ``value``: a regular expression searched in the field's value (strings only);
- ``detector``: a built-in detector (:data:`~headwater.pii.detectors.DETECTORS`).

and an ``action``: ``allow`` (the field is not personal: no other rule applies to it or inside
it), ``mask`` (stored as sent, masked in the management API for readers without ``pii:read``),
``hash`` (HMAC-SHA256 of the value with the workspace's salt, hex), ``redact`` (replaced by
:data:`REDACTED`), ``drop`` (the key removed) or ``block`` (the whole event refused). A rule
applies to every source or to the ``sources`` listed; with ``destinations`` it applies only to
what is sent to those destinations (in routing), otherwise at collection, before anything is
stored.

Which rule decides a field: the most specific one that matches (an exact path, then a path with
wildcards, then a key, then a value or detector), and among equals the strongest action
(``allow`` first, then ``block``, ``drop``, ``redact``, ``hash``, ``mask``). A field a rule
decides is not looked inside. Rules see ``properties``, ``traits`` and ``context`` (with
``context.ip`` and ``context.traits``); the identifiers ``userId``, ``anonymousId``,
``groupId`` and ``previousId`` only through a rule on their exact path, which may ``hash``,
``allow`` or ``block`` them (identity needs them: redacted or dropped, every person would be
one). Nothing else of a message (its type, ``messageId``, timestamps, event name) is touched.

>>> rules = compile_rules([Rule(id=1, path="properties.email", action="hash")])
>>> apply(rules, {"type": "track", "properties": {"email": "a@b.co"}}, salt=b"s").payload
{'type': 'track', 'properties': {'email': '...'}}  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import msgspec

from headwater.errors import BadRequest
from headwater.pii.detectors import DETECTORS, Detector

__all__ = [
    "ACTIONS",
    "IDENTIFIERS",
    "REDACTED",
    "Action",
    "Applied",
    "Compiled",
    "Outcome",
    "Rule",
    "apply",
    "compile_rules",
    "digest",
    "path_matches",
    "validate",
]

Action = Literal["allow", "mask", "hash", "redact", "drop", "block"]
ACTIONS: Final = ("allow", "mask", "hash", "redact", "drop", "block")

REDACTED: Final = "[redacted]"
"""What a redacted value reads as."""

IDENTIFIERS: Final = frozenset({"userId", "anonymousId", "groupId", "previousId"})
"""Top-level identifiers: only an exact-path rule touches them, with ``hash``, ``allow`` or
``block``."""

_ROOTS: Final = ("properties", "traits", "context")
"""Where rules other than exact paths look."""

_STRENGTH: Final = {"allow": 0, "block": 1, "drop": 2, "redact": 3, "hash": 4, "mask": 5}


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    """One PII rule as stored (see the module)."""

    id: int = 0
    name: str = ""
    path: str | None = None
    key: str | None = None
    value: str | None = None
    detector: str | None = None
    action: Action
    sources: list[int] | None = None
    """The sources it applies to; None for every source."""
    destinations: list[int] | None = None
    """The destinations whose deliveries it applies to; None: at collection."""
    enabled: bool = True

    def at_collection(self, source_id: int) -> bool:
        return (
            self.enabled
            and self.destinations is None
            and self.action != "mask"
            and (self.sources is None or source_id in self.sources)
        )

    def for_destination(self, source_id: int, destination_id: int) -> bool:
        return (
            self.enabled
            and self.destinations is not None
            and destination_id in self.destinations
            and (self.sources is None or source_id in self.sources)
        )


_PATH_SEGMENT: Final = re.compile(r"(\*\*|\*|[^.*\[\]]+)(\[\])?")


def validate(rule: Rule) -> None:
    """Raise :class:`BadRequest` (``invalid_rule``, naming the field) when ``rule`` cannot work."""
    if not (rule.path or rule.key or rule.value or rule.detector):
        raise _invalid("path", "give at least one of path, key, value or detector")
    if rule.path is not None:
        segments = rule.path.split(".")
        if not all(_PATH_SEGMENT.fullmatch(s) for s in segments):
            raise _invalid(
                "path", "a path is dotted segments: a name, * or **, each with [] after it"
            )
        if "*" not in segments[0] and segments[0] not in (*_ROOTS, *IDENTIFIERS):
            roots = ", ".join((*_ROOTS, *sorted(IDENTIFIERS)))
            raise _invalid("path", f"a path starts at one of {roots}")
        if segments[0] in IDENTIFIERS and len(segments) > 1:
            raise _invalid("path", f"{segments[0]} has no fields inside it")
        if segments[0] in IDENTIFIERS and rule.action not in ("hash", "allow", "block"):
            raise _invalid("action", f"{rule.path} can only be hashed, allowed or blocked")
    for name in ("key", "value"):
        pattern = getattr(rule, name)
        if pattern is None:
            continue
        try:
            re.compile(pattern)
        except re.error as error:
            raise _invalid(name, f"not a regular expression: {error}") from None
    if rule.detector is not None and rule.detector not in DETECTORS:
        known = ", ".join(DETECTORS)
        raise _invalid("detector", f"unknown detector {rule.detector!r} (one of {known})")
    if rule.action == "mask":
        if rule.value is not None or rule.detector is not None:
            raise _invalid("action", "mask works on keys: give a path or key, not a value")
        if rule.destinations is not None or rule.sources is not None:
            raise _invalid("action", "mask applies in the management API, to every source")
        if rule.path is not None and rule.key is None and "*" in rule.path.rsplit(".", 1)[-1]:
            raise _invalid("path", "mask works on keys: end the path with a key's name")
    if rule.destinations is not None and not rule.destinations:
        raise _invalid("destinations", "list at least one destination, or leave it out")
    if rule.sources is not None and not rule.sources:
        raise _invalid("sources", "list at least one source, or leave it out")


def _invalid(field_name: str, message: str) -> BadRequest:
    return BadRequest("invalid_rule", f"{field_name}: {message}", field=field_name)


def _glob(path: str) -> re.Pattern[str]:
    parts: list[str] = []
    for segment in path.split("."):
        found = _PATH_SEGMENT.fullmatch(segment)
        assert found is not None
        name, array = found.groups()
        if name == "**":
            part = r"[^.]+(?:\.[^.]+)*"
        elif name == "*":
            part = r"[^.]+"
        else:
            part = re.escape(name)
        parts.append(part + (r"\[\]" if array else ""))
    return re.compile(r"\.".join(parts))


def path_matches(pattern: str, path: str) -> bool:
    """Does the rule path ``pattern`` name ``path``?

    >>> path_matches("traits.*", "traits.email"), path_matches("traits.*", "traits.a.b")
    (True, False)
    >>> path_matches("properties.**", "properties.a.b")
    True
    """
    return _glob(pattern).fullmatch(path) is not None


@dataclass(frozen=True, slots=True)
class _Matcher:
    rule: Rule
    tier: int
    glob: re.Pattern[str] | None
    key: re.Pattern[str] | None
    value: re.Pattern[str] | None
    detector: Detector | None

    def matches(self, path: str, key: str, value: Any) -> bool:
        if self.glob is not None and self.glob.fullmatch(path) is None:
            return False
        if self.key is not None and self.key.search(key) is None:
            return False
        if self.value is not None and not (
            isinstance(value, str) and self.value.search(value) is not None
        ):
            return False
        return self.detector is None or self.detector(key, value)

    @property
    def order(self) -> tuple[int, int, int]:
        return (self.tier, _STRENGTH[self.rule.action], self.rule.id)


def _matcher(rule: Rule) -> _Matcher:
    exact = rule.path is not None and "*" not in rule.path and "[]" not in rule.path
    tier = 0 if exact else 1 if rule.path else 2 if rule.key else 3
    return _Matcher(
        rule,
        tier,
        _glob(rule.path) if rule.path else None,
        re.compile(rule.key) if rule.key else None,
        re.compile(rule.value) if rule.value else None,
        DETECTORS[rule.detector] if rule.detector else None,
    )


@dataclass(frozen=True, slots=True)
class Compiled:
    """Rules ready to apply: those on exact paths looked up, the others tried while walking."""

    exact: dict[tuple[str, ...], list[_Matcher]]
    walking: list[_Matcher]
    hashes: bool
    """Some rule hashes (the salt is needed)."""

    def __bool__(self) -> bool:
        return bool(self.exact or self.walking)


def compile_rules(rules: Iterable[Rule]) -> Compiled:
    """``rules`` ready for :func:`apply` (each valid: see :func:`validate`)."""
    matchers = sorted((_matcher(r) for r in rules), key=lambda m: m.order)
    exact: dict[tuple[str, ...], list[_Matcher]] = {}
    walking: list[_Matcher] = []
    for matcher in matchers:
        if matcher.tier == 0:
            assert matcher.rule.path is not None
            exact.setdefault(tuple(matcher.rule.path.split(".")), []).append(matcher)
        else:
            walking.append(matcher)
    return Compiled(exact, walking, any(m.rule.action == "hash" for m in matchers))


class Applied(msgspec.Struct, frozen=True):
    """One field a rule decided."""

    path: str
    action: Action
    rule_id: int


@dataclass(slots=True)
class Outcome:
    """The message after the rules: ``payload`` (the given one when nothing changed), or
    ``blocked`` with the reason; ``applied`` lists every field decided."""

    payload: dict[str, Any]
    blocked: str | None = None
    applied: list[Applied] = field(default_factory=list)
    changed: bool = False


def digest(value: Any, salt: bytes) -> str:
    """HMAC-SHA256 of ``value`` (a string as is, anything else as JSON) with ``salt``, hex."""
    data = value.encode() if isinstance(value, str) else msgspec.json.encode(value)
    return hmac.new(salt, data, hashlib.sha256).hexdigest()


_DROP: Final = object()


def apply(compiled: Compiled, payload: dict[str, Any], *, salt: bytes = b"") -> Outcome:
    """``payload`` (a message as a JSON document) with ``compiled``'s actions applied; the
    given document is never changed (changed parts are copies)."""
    outcome = Outcome(payload)
    walker = _Walker(compiled, salt, outcome)
    result = payload
    for segments, matchers in compiled.exact.items():
        result = walker.exact(result, segments, ".".join(segments), matchers)
        if outcome.blocked is not None:
            return outcome
    if compiled.walking:
        for root in _ROOTS:
            value = result.get(root)
            if isinstance(value, dict):
                walked = walker.walk(value, root)
                if outcome.blocked is not None:
                    return outcome
                if walked is not value:
                    result = {**result, root: walked}
    outcome.payload = result
    outcome.changed = result is not payload
    return outcome


class _Walker:
    def __init__(self, compiled: Compiled, salt: bytes, outcome: Outcome) -> None:
        self.compiled = compiled
        self.salt = salt
        self.outcome = outcome
        self.allowed: set[str] = set()

    def decide(self, matcher: _Matcher, path: str, value: Any) -> Any:
        """The field's new value (``_DROP`` to remove it); records what was done."""
        action = matcher.rule.action
        self.outcome.applied.append(Applied(path, action, matcher.rule.id))
        if action == "allow":
            self.allowed.add(path)
            return value
        if action == "block":
            self.outcome.blocked = f"PII rule {matcher.rule.id} blocks events with {path}"
            return value
        if action == "drop":
            return _DROP
        if action == "redact":
            return REDACTED if value is not None else None
        if action == "hash":
            return digest(value, self.salt) if value is not None else None
        return value  # mask: stored as sent

    def exact(
        self,
        document: dict[str, Any],
        segments: Sequence[str],
        path: str,
        matchers: list[_Matcher],
    ) -> dict[str, Any]:
        """``document`` with the field at ``segments`` decided (a path through an array's
        ``[]`` is matched while walking, like wildcards)."""
        head, *rest = segments
        if head not in document:
            return document
        value = document[head]
        if rest:
            if not isinstance(value, dict):
                return document
            changed = self.exact(value, rest, path, matchers)
            return document if changed is value else {**document, head: changed}
        for matcher in matchers:
            if matcher.matches(path, head, value):
                new = self.decide(matcher, path, value)
                return _put(document, head, value, new)
        return document

    def walk(self, document: dict[str, Any], prefix: str) -> dict[str, Any]:
        result = document
        for key, value in document.items():
            path = f"{prefix}.{key}"
            if path in self.allowed:
                continue
            new = self.field(path, key, value)
            if self.outcome.blocked is not None:
                return document
            if new is not value:
                result = _put(result, key, value, new)
        return result

    def field(self, path: str, key: str, value: Any) -> Any:
        for matcher in self.compiled.walking:
            if matcher.matches(path, key, value):
                return self.decide(matcher, path, value)
        if isinstance(value, dict):
            return self.walk(value, path)
        if isinstance(value, list):
            return self.items(value, f"{path}[]", key)
        return value

    def items(self, values: list[Any], path: str, key: str) -> Any:
        result = values
        for index, item in enumerate(values):
            new = self.field(path, key, item)
            if self.outcome.blocked is not None:
                return values
            if new is not item:
                if result is values:
                    result = list(values)
                result[index] = new
        if result is not values:
            return [item for item in result if item is not _DROP]
        return values


def _put(document: dict[str, Any], key: str, old: Any, new: Any) -> dict[str, Any]:
    if new is old:
        return document
    copy = dict(document)
    if new is _DROP:
        del copy[key]
    else:
        copy[key] = new
    return copy
