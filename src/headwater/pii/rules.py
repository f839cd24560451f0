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
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
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
    """The path as a regular expression, checked on the whole path (``**`` paths only)."""
    segments: tuple[str, ...] | None
    """The path as segments, followed while walking (paths without ``**``)."""
    key: re.Pattern[str] | None
    value: re.Pattern[str] | None
    detector: Detector | None
    keys: dict[str, bool] = field(default_factory=dict)
    """The key pattern's answers so far (keys repeat from one message to the next)."""

    def matches(self, path: str, key: str, value: Any) -> bool:
        if self.key is not None and not self.key_matches(key):
            return False
        return self.matches_value(path, value, key)

    def matches_value(self, path: str, value: Any, key: str) -> bool:
        """The conditions but the key's (which :meth:`Compiled.step` checked)."""
        if self.glob is not None and self.glob.fullmatch(path) is None:
            return False
        if self.value is not None and not (
            isinstance(value, str) and self.value.search(value) is not None
        ):
            return False
        return self.detector is None or self.detector(key, value)

    def key_matches(self, key: str) -> bool:
        found = self.keys.get(key)
        if found is None:
            assert self.key is not None
            found = self.key.search(key) is not None
            if len(self.keys) < _CACHED_KEYS:
                self.keys[key] = found
        return found

    @property
    def order(self) -> tuple[int, int, int]:
        return (self.tier, _STRENGTH[self.rule.action], self.rule.id)


_CACHED_KEYS: Final = 4096


def _matcher(rule: Rule) -> _Matcher:
    exact = rule.path is not None and "*" not in rule.path and "[]" not in rule.path
    tier = 0 if exact else 1 if rule.path else 2 if rule.key else 3
    deep = rule.path is not None and "**" in rule.path
    return _Matcher(
        rule,
        tier,
        _glob(rule.path) if rule.path and deep else None,
        tuple(rule.path.split(".")) if rule.path and not deep else None,
        re.compile(rule.key) if rule.key else None,
        re.compile(rule.value) if rule.value else None,
        DETECTORS[rule.detector] if rule.detector else None,
    )


def _segment_matches(pattern: str, segment: str) -> bool:
    """Does a rule path's segment name a walked one (``items[]`` is an array's element)?"""
    if pattern == segment or pattern == "*":
        return True
    return pattern == "*[]" and segment.endswith("[]")


_Step = tuple[tuple[_Matcher, ...], tuple[_Matcher, ...]]
"""At one node: the matchers that may decide it, and those still alive below it."""


@dataclass(slots=True)
class _Node:
    """Exact paths as a tree: the rules whose path ends here, and the paths going on."""

    matchers: list[_Matcher] = field(default_factory=list)
    children: dict[str, _Node] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Compiled:
    """Rules ready to apply: those on exact paths looked up, the others tried while walking."""

    exact: dict[str, _Node]
    walking: tuple[_Matcher, ...]
    hashes: bool
    """Some rule hashes (the salt is needed)."""
    steps: dict[tuple[int, int, str], _Step] = field(default_factory=dict)
    """:meth:`step`'s answers so far, by (alive matchers, depth, segment)."""

    def step(self, alive: tuple[_Matcher, ...], depth: int, segment: str) -> _Step:
        """Which of ``alive`` may decide the node ``segment`` at ``depth`` (0: a root's
        child), and which stay alive below it; remembered, as segments repeat."""
        memo = (id(alive), depth, segment)
        found = self.steps.get(memo)
        if found is not None:
            return found
        here: list[_Matcher] = []
        below: list[_Matcher] = []
        key = segment.removesuffix("[]")
        for matcher in alive:
            segments = matcher.segments
            if segments is None:
                here.append(matcher)
                below.append(matcher)
            elif depth < len(segments) and _segment_matches(segments[depth], segment):
                (here if depth == len(segments) - 1 else below).append(matcher)
        here = [m for m in here if m.key is None or m.key_matches(key)]
        found = (tuple(here), tuple(below))
        if len(self.steps) >= _CACHED_STEPS:
            self.steps.clear()
        self.steps[memo] = found
        return found

    def __bool__(self) -> bool:
        return bool(self.exact or self.walking)


def compile_rules(rules: Iterable[Rule]) -> Compiled:
    """``rules`` ready for :func:`apply` (each valid: see :func:`validate`)."""
    matchers = sorted((_matcher(r) for r in rules), key=lambda m: m.order)
    exact: dict[str, _Node] = {}
    walking: list[_Matcher] = []
    for matcher in matchers:
        if matcher.tier == 0:
            assert matcher.rule.path is not None
            children = exact
            *parents, last = matcher.rule.path.split(".")
            for name in parents:
                children = children.setdefault(name, _Node()).children
            children.setdefault(last, _Node()).matchers.append(matcher)
        else:
            walking.append(matcher)
    return Compiled(exact, tuple(walking), any(m.rule.action == "hash" for m in matchers))


_CACHED_STEPS: Final = 16_384


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
    keyed = _keyed(salt).copy()
    keyed.update(data)
    return keyed.hexdigest()


@lru_cache(maxsize=256)
def _keyed(salt: bytes) -> hmac.HMAC:
    """An HMAC keyed with ``salt`` and fed nothing yet: copied for each value (the key's
    padding is computed once)."""
    return hmac.new(salt, digestmod=hashlib.sha256)


_DROP: Final = object()


def apply(compiled: Compiled, payload: dict[str, Any], *, salt: bytes = b"") -> Outcome:
    """``payload`` (a message as a JSON document) with ``compiled``'s actions applied; the
    given document is never changed (changed parts are copies)."""
    outcome = Outcome(payload)
    walker = _Walker(compiled, salt, outcome)
    result = walker.exact(payload, compiled.exact, "") if compiled.exact else payload
    if outcome.blocked is not None:
        return outcome
    if compiled.walking:
        for root in _ROOTS:
            value = result.get(root)
            if not isinstance(value, dict):
                continue
            _, alive = compiled.step(compiled.walking, 0, root)
            if alive:
                walked = walker.walk(value, root, 1, alive)
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
        self.decided: set[str] = set()
        """Paths an exact-path rule decided: no other rule applies to them or inside them."""

    def decide(self, matcher: _Matcher, path: str, value: Any) -> Any:
        """The field's new value (``_DROP`` to remove it); records what was done."""
        action = matcher.rule.action
        self.outcome.applied.append(Applied(path, action, matcher.rule.id))
        if action == "allow":
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

    def exact(self, document: dict[str, Any], nodes: dict[str, _Node], prefix: str) -> Any:
        """``document`` with the exact paths under ``nodes`` decided (a path through an
        array's ``[]`` is matched while walking, like wildcards); each object copied once."""
        result = document
        for name, node in nodes.items():
            if name not in document:
                continue
            value = document[name]
            path = f"{prefix}.{name}" if prefix else name
            new = value
            for matcher in node.matchers:
                if matcher.matches(path, name, value):
                    self.decided.add(path)
                    new = self.decide(matcher, path, value)
                    break
            else:
                if node.children and isinstance(value, dict):
                    new = self.exact(value, node.children, path)
            if self.outcome.blocked is not None:
                return document
            if new is not value:
                if result is document:
                    result = dict(document)
                if new is _DROP:
                    del result[name]
                else:
                    result[name] = new
        return result

    def walk(
        self, document: dict[str, Any], prefix: str, depth: int, alive: tuple[_Matcher, ...]
    ) -> dict[str, Any]:
        result = document
        for key, value in document.items():
            new = self.field(prefix, key, key, value, depth, alive)
            if self.outcome.blocked is not None:
                return document
            if new is not value:
                if result is document:
                    result = dict(document)
                if new is _DROP:
                    del result[key]
                else:
                    result[key] = new
        return result

    def field(
        self,
        prefix: str,
        segment: str,
        key: str,
        value: Any,
        depth: int,
        alive: tuple[_Matcher, ...],
    ) -> Any:
        here, below = self.compiled.step(alive, depth, segment)
        if here:
            path = f"{prefix}.{segment}"
            if self.decided and path in self.decided:
                return value
            for matcher in here:
                if matcher.matches_value(path, value, key):
                    return self.decide(matcher, path, value)
        if below and isinstance(value, dict):
            path = f"{prefix}.{segment}"
            if self.decided and path in self.decided:
                return value
            return self.walk(value, path, depth + 1, below)
        if isinstance(value, list):  # its elements are the segment with [] (items[])
            return self.items(value, prefix, f"{segment}[]", key, depth, alive)
        return value

    def items(
        self,
        values: list[Any],
        prefix: str,
        segment: str,
        key: str,
        depth: int,
        alive: tuple[_Matcher, ...],
    ) -> Any:
        result = values
        for index, item in enumerate(values):
            new = self.field(prefix, segment, key, item, depth, alive)
            if self.outcome.blocked is not None:
                return values
            if new is not item:
                if result is values:
                    result = list(values)
                result[index] = new
        if result is not values:
            return [item for item in result if item is not _DROP]
        return values
