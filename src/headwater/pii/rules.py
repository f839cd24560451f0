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
>>> outcome = apply(rules, {"type": "track", "properties": {"email": "a@b.co"}}, salt=b"s")
>>> outcome.payload["properties"]
{'email': '70ef1d65d2606646cb8b9b2edfc25e99e404caee68f58e44df517f827b23f94c'}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final, Literal

import msgspec

from headwater.errors import BadRequest
from headwater.pii.detectors import DETECTORS, NUMBERS, Detector
from headwater.pii.digests import digest
from headwater.pii.generate import Field, Program, for_level, for_message

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
    plain: bool
    """No condition but the path (and the key, checked before): it decides any value."""
    always: bool
    """No condition but the path: it decides any field at its path."""
    strings: bool
    """Its value conditions hold only for strings (checked before calling them)."""
    record: Applied | None = None
    """What it records when it decides its field (rules on exact paths: made once)."""
    keys: dict[str, bool] = field(default_factory=dict)
    """The key pattern's answers so far (keys repeat from one message to the next)."""

    def matches(self, path: str, key: str, value: Any) -> bool:
        if self.key is not None and not self.key_matches(key):
            return False
        return self.matches_value(path, value, key)

    def matches_value(self, path: str, value: Any, key: str) -> bool:
        """The conditions but the key's (which :func:`_step` checked)."""
        if self.plain:
            return True
        if self.strings and not isinstance(value, str):
            return False
        if self.glob is not None and self.glob.fullmatch(path) is None:
            return False
        if self.value is not None and self.value.search(value) is None:
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
        plain=not (deep or rule.value or rule.detector),
        always=not (deep or rule.value or rule.detector or rule.key),
        strings=bool(rule.value) or (rule.detector is not None and rule.detector not in NUMBERS),
        record=Applied(rule.path, rule.action, rule.id) if exact and rule.path else None,
    )


def _segment_matches(pattern: str, segment: str) -> bool:
    """Does a rule path's segment name a walked one (``items[]`` is an array's element)?"""
    if pattern == segment or pattern == "*":
        return True
    return pattern == "*[]" and segment.endswith("[]")


def _step(
    alive: tuple[_Matcher, ...], depth: int, segment: str
) -> tuple[tuple[_Matcher, ...], tuple[_Matcher, ...]]:
    """Which of ``alive`` may decide the node ``segment`` at ``depth`` (0: a root's child),
    and which stay alive below it."""
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
    return tuple(here), tuple(below)


@dataclass(slots=True)
class _Site:
    """A field at one path, as the walking rules see it: which may decide it (``here``) and
    the object inside it (``inside``, None when no rule looks there); an array's elements are
    the site of the segment with ``[]`` (:meth:`elements`)."""

    level: _Level
    segment: str
    key: str
    """The field's own key, given to the conditions (an element's is its array's)."""
    path: str
    here: tuple[_Matcher, ...]
    inside: _Level | None
    exact: bool
    """An exact path's rule may have decided the field (then no other rule applies)."""
    decided: bool
    """An exact path's rule decides the field whenever it is there (it has no condition,
    and no rule on a path above it may stop the lookup before it)."""
    strings: bool
    """Only a string can be decided here (every matcher's conditions need one)."""
    records: tuple[Applied, ...] = ()
    """What each of ``here`` records when it decides the field (made once)."""
    verdict: Callable[[str], int] | None = None
    """Which of ``here`` decides a string (its index, -1: none), for strings of at most
    :data:`_VERDICT_CHARS` characters, remembered for the last :data:`_VERDICTS` of them
    (values repeat: a currency, a plan, a person's email from one event to the next)."""
    _elements: _Site | None = None

    def decider(self, value: str) -> int:
        """The index in ``here`` of the first matcher that decides ``value``, or -1."""
        for index, matcher in enumerate(self.here):
            if matcher.matches_value(self.path, value, self.key):
                return index
        return -1

    def elements(self) -> _Site:
        if self._elements is None:
            self._elements = self.level.site(f"{self.segment}[]", self.key)
            self.level.shapes.grown(1)
        return self._elements


@dataclass(slots=True)
class _Level:
    """An object at one path: the matchers alive in it, and for each shape (its keys in
    order and the types of their values) the fields some rule may decide or look inside,
    with their sites."""

    path: str
    depth: int
    alive: tuple[_Matcher, ...]
    shapes: _Shapes
    plans: dict[_Shape, _Plan] = field(default_factory=dict)
    programs: dict[tuple[str, ...], Program] = field(default_factory=dict)
    """By keys in order, the programs of those often seen (:func:`for_level`), for any
    types of the values."""
    counts: dict[tuple[str, ...], int] = field(default_factory=dict)
    """How often the keys without a program were seen."""
    sites: dict[str, _Site | None] = field(default_factory=dict)
    """By key, shared by the shapes (None: no rule applies to the field, inside it or to
    its elements)."""

    def plan(self, shape: _Shape) -> _Plan:
        """The fields of an object of ``shape`` (its keys, the types of their values) that a
        rule may decide or look inside, each with its site and the work it needs
        (:func:`_work`)."""
        found = self.plans.get(shape)
        if found is None:
            entries = []
            keys, types = shape
            for key, kind in zip(keys, types, strict=True):
                site = self._site(key)
                if site is not None and (work := _work(site, kind)) is not None:
                    entries.append((key, site, work))
            found = self.plans[shape] = tuple(entries)
            self.shapes.grown(len(keys) + 1)
        return found

    def seen(self, keys: tuple[str, ...]) -> bool:
        """Count an object with ``keys`` (without a program); are they due one?"""
        count = self.counts.get(keys, 0) + 1
        self.counts[keys] = count
        if count == 1:
            self.shapes.grown(1)
        return self.shapes.due(count)

    def program(self, keys: tuple[str, ...]) -> Program:
        """The program for objects with ``keys`` (in this order), made once."""
        fields: list[Field] = []
        for key in keys:
            site = self._site(key)
            if site is not None:
                fields.append((key, site, {kind: _work(site, kind) for kind in _KINDS}))
        found = self.programs[keys] = for_level(fields, _VERDICT_CHARS, _RUNTIME)
        self.shapes.grown(len(fields) + 1)
        return found

    def _site(self, key: str) -> _Site | None:
        if key in self.sites:
            return self.sites[key]
        here, below = _step(self.alive, self.depth, key)
        # No path names an element's element: when no rule sees a field's elements, none
        # sees theirs.
        elements = _step(self.alive, self.depth, f"{key}[]")
        found = self.site(key, key) if here or below or any(elements) else None
        self.sites[key] = found
        self.shapes.grown(1)
        return found

    def site(self, segment: str, key: str) -> _Site:
        here, below = _step(self.alive, self.depth, segment)
        path = f"{self.path}.{segment}"
        inside = _Level(path, self.depth + 1, below, self.shapes) if below else None
        strings = all(m.strings for m in here)
        exact, decided = path in self.shapes.exact, path in self.shapes.decided
        site = _Site(self, segment, key, path, here, inside, exact, decided, strings)
        site.records = tuple(Applied(path, m.rule.action, m.rule.id) for m in here)
        if here and strings:
            site.verdict = lru_cache(maxsize=_VERDICTS)(site.decider)
            self.shapes.grown(_VERDICTS)
        return site


_Plan = tuple[tuple[str, "_Site", int], ...]
_Shape = tuple[tuple[str, ...], tuple[type, ...]]

_KINDS: Final[frozenset[type]] = frozenset({str, int, float, bool, type(None), dict, list})
"""The types of decoded JSON (any other type takes the general path, :meth:`_Walker.field`)."""


def _work(site: _Site, kind: type) -> int | None:
    """What a field of type ``kind`` at ``site`` needs: None nothing (what
    :meth:`_Walker.field` would conclude), :data:`_VERDICT` the site's remembered verdict on a
    string, :data:`_INSIDE` a walk of the object inside (no rule may decide the field itself),
    :data:`_FIELD` :meth:`_Walker.field`."""
    if kind not in _KINDS:
        return _FIELD
    if site.here:
        if site.decided:
            return None
        if kind is str:
            return _VERDICT if site.verdict is not None else _FIELD
        return None if site.strings and kind is not dict and kind is not list else _FIELD
    if kind is list:
        return _FIELD
    if kind is dict and site.inside is not None and not site.decided:
        return _FIELD if site.exact else _INSIDE
    return None


_FIELD: Final = 0
_VERDICT: Final = 1
_INSIDE: Final = 2


class _Shapes:
    """The walking rules' answers per path and shape of object, remembered (messages of one
    source repeat their shapes); forgotten all at once past :data:`_CACHED_SITES` entries, so
    keys that never repeat (ids as keys) cannot grow it without bound. The keys of an object
    at a path, once seen ``generate_after`` times, get a program (:mod:`headwater.pii.generate`),
    and so does the whole message's lookup of exact paths and walk of the roots once that many
    messages were applied; before, and always with ``generate_after`` None, they are
    interpreted."""

    def __init__(
        self,
        walking: tuple[_Matcher, ...],
        exact: dict[str, _Node],
        decided: frozenset[str],
        *,
        generate_after: int | None,
    ) -> None:
        self.walking = walking
        self.nodes = exact
        self.exact = frozenset(_exact_paths(exact))
        self.decided = decided
        self.generate_after = generate_after
        self.size = 0
        self.roots: tuple[tuple[str, _Level], ...] = self._roots()
        self.applied = 0
        """Messages applied by the interpreter."""
        self.made = 0
        """Programs made (at most :data:`_PROGRAMS`)."""
        self.program: Program | None = None
        """The message's program, once made."""

    def _roots(self) -> tuple[tuple[str, _Level], ...]:
        roots = []
        for root in _ROOTS:
            _, alive = _step(self.walking, 0, root)
            if alive:
                roots.append((root, _Level(root, 1, alive, self)))
        return tuple(roots)

    def message(self) -> Program | None:
        """The program applying the rules to a message, or None: interpret this one."""
        if self.program is None:
            self.applied += 1
            if not self.due(self.applied):
                return None
            self.program = for_message(self.nodes, self.roots, _RUNTIME)
        return self.program

    def due(self, seen: int) -> bool:
        """Is something seen ``seen`` times worth a program (and is there room for one)?"""
        if self.generate_after is None or seen <= self.generate_after:
            return False
        if self.made >= _PROGRAMS:
            return False
        self.made += 1
        return True

    def grown(self, entries: int) -> None:
        self.size += entries
        if self.size > _CACHED_SITES:
            self.size = self.made = 0
            self.roots = self._roots()
            self.program = None  # it walks the roots' levels


def _exact_paths(nodes: dict[str, _Node]) -> Iterable[str]:
    for node in nodes.values():
        if node.matchers:
            yield node.path
        yield from _exact_paths(node.children)


_GENERATE_AFTER: Final = 1_000
"""Uses before a program is made: making one takes 0.5-1 ms (the source compiled), about what
it saves over 1,000-2,000 uses; keys seen fewer times (ids as keys) never cost one."""

_PROGRAMS: Final = 256
"""Programs made before the next time everything is forgotten (each holds 10-30 kB: a few MB
at most)."""

_CACHED_SITES: Final = 65_536
"""Entries (keys of the shapes, sites, remembered verdicts) kept before forgetting them all."""

_VERDICTS: Final = 128
_VERDICT_CHARS: Final = 100


@dataclass(slots=True)
class _Node:
    """Exact paths as a tree: the rules whose path ends here, and the paths going on."""

    path: str
    matchers: list[_Matcher] = field(default_factory=list)
    children: dict[str, _Node] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Compiled:
    """Rules ready to apply: those on exact paths looked up, the others tried while walking
    the objects each message's shape says they may apply in."""

    exact: dict[str, _Node]
    walking: tuple[_Matcher, ...]
    hashes: bool
    """Some rule hashes (the salt is needed)."""
    shapes: _Shapes

    def __bool__(self) -> bool:
        return bool(self.exact or self.walking)


def compile_rules(
    rules: Iterable[Rule], *, generate_after: int | None = _GENERATE_AFTER
) -> Compiled:
    """``rules`` ready for :func:`apply` (each valid: see :func:`validate`). Messages, and
    objects with the same keys at one path, are interpreted ``generate_after`` times, then
    applied by code generated for them (:mod:`headwater.pii.generate`; with None, always
    interpreted: the reference the generated code is tested against, with the same
    outcomes)."""
    matchers = sorted((_matcher(r) for r in rules), key=lambda m: m.order)
    exact: dict[str, _Node] = {}
    walking: list[_Matcher] = []
    for matcher in matchers:
        if matcher.tier == 0:
            assert matcher.rule.path is not None
            children, path = exact, ""
            for name in matcher.rule.path.split("."):
                path = f"{path}.{name}" if path else name
                node = children.setdefault(name, _Node(path))
                children = node.children
            node.matchers.append(matcher)
        else:
            walking.append(matcher)
    return Compiled(
        exact,
        tuple(walking),
        any(m.rule.action == "hash" for m in matchers),
        _Shapes(
            tuple(walking),
            exact,
            frozenset(_always_decided(exact)),
            generate_after=generate_after,
        ),
    )


def _always_decided(nodes: dict[str, _Node]) -> Iterable[str]:
    """The exact paths decided whenever they are there: one of their rules has no condition,
    and none is on a path above them (a decided field is not looked inside)."""
    for node in nodes.values():
        if any(m.always for m in node.matchers):
            yield node.path
        elif not node.matchers:
            yield from _always_decided(node.children)


class Applied(msgspec.Struct, frozen=True):
    """One field a rule decided."""

    path: str
    action: Action
    rule_id: int

    def blocks(self) -> str:
        """Why the event is blocked, when the action is ``block``."""
        return f"PII rule {self.rule_id} blocks events with {self.path}"


@dataclass(slots=True)
class Outcome:
    """The message after the rules: ``payload`` (the given one when nothing changed), or
    ``blocked`` with the reason; ``applied`` lists every field decided."""

    payload: dict[str, Any]
    blocked: str | None = None
    applied: list[Applied] = field(default_factory=list)
    changed: bool = False


_DROP: Final = object()
_ABSENT: Final = object()


def apply(compiled: Compiled, payload: dict[str, Any], *, salt: bytes = b"") -> Outcome:
    """``payload`` (a message as a JSON document) with ``compiled``'s actions applied; the
    given document is never changed (changed parts are copies)."""
    outcome = Outcome(payload)
    walker = _Walker(salt, outcome)
    program = compiled.shapes.message()
    try:
        result = walker.message(payload, compiled) if program is None else program(walker, payload)
    except _Blocked:
        return outcome
    outcome.payload = result
    outcome.changed = result is not payload
    return outcome


class _Blocked(Exception):
    """A rule blocked the event (:attr:`Outcome.blocked` says which): nothing more to do."""


_RUNTIME: Final = {
    "ABSENT": _ABSENT,
    "DROP": _DROP,
    "REDACTED": REDACTED,
    "Blocked": _Blocked,
    "digest": digest,
}
"""What generated programs use besides their constants (:mod:`headwater.pii.generate`)."""


class _Walker:
    """One message's application: the interpreter, which generated programs call for what
    they leave to it (an array, a value of a type JSON does not decode to, an exact path
    deeper than they nest, an object of a shape seen once)."""

    __slots__ = ("applied", "decided", "outcome", "salt")

    def __init__(self, salt: bytes, outcome: Outcome) -> None:
        self.salt = salt
        self.outcome = outcome
        self.applied = outcome.applied
        self.decided: set[str] = set()
        """Paths an exact-path rule decided: no other rule applies to them or inside them."""

    def message(self, payload: dict[str, Any], compiled: Compiled) -> dict[str, Any]:
        """``payload`` with the exact paths decided, then each root walked that is an object
        no exact rule decided (what :func:`~headwater.pii.generate.for_message` writes)."""
        result = self.exact(payload, compiled.exact) if compiled.exact else payload
        for root, level in compiled.shapes.roots:
            value = result.get(root)
            if not isinstance(value, dict) or root in self.decided:
                continue
            walked = self.walk(value, level)
            if walked is not value:
                result = {**result, root: walked}
        return result

    def decide(self, record: Applied, value: Any) -> Any:
        """The field's new value (``_DROP`` to remove it) by the rule and at the path of
        ``record``; records what was done; raises :class:`_Blocked` for ``block``."""
        action = record.action
        self.applied.append(record)
        if action == "allow":
            return value
        if action == "block":
            self.outcome.blocked = record.blocks()
            raise _Blocked
        if action == "drop":
            return _DROP
        if action == "redact":
            return REDACTED if value is not None else None
        if action == "hash":
            return digest(value, self.salt) if value is not None else None
        return value  # mask: stored as sent

    def exact(self, document: dict[str, Any], nodes: dict[str, _Node]) -> Any:
        """``document`` with the exact paths under ``nodes`` decided (a path through an
        array's ``[]`` is matched while walking, like wildcards); each object copied once."""
        result = document
        for name, node in nodes.items():
            value = document.get(name, _ABSENT)
            if value is _ABSENT:
                continue
            new = value
            for matcher in node.matchers:
                if matcher.always or matcher.matches(node.path, name, value):
                    self.decided.add(node.path)
                    new = self.decide(matcher.record, value)  # type: ignore[arg-type]
                    break
            else:
                if node.children and isinstance(value, dict):
                    new = self.exact(value, node.children)
            if new is not value:
                if result is document:
                    result = dict(document)
                if new is _DROP:
                    del result[name]
                else:
                    result[name] = new
        return result

    def walk(self, document: dict[str, Any], level: _Level) -> dict[str, Any]:
        """``document`` (an object at ``level``) with the rules applied: by the program for
        its keys, made once they are due one (:meth:`_Shapes.due`), or interpreted."""
        keys = tuple(document)
        program = level.programs.get(keys)
        if program is not None:
            return program(self, document)  # type: ignore[no-any-return]
        if level.seen(keys):
            return level.program(keys)(self, document)  # type: ignore[no-any-return]
        shape = (keys, tuple(map(type, document.values())))
        plan = level.plans.get(shape)
        if plan is None:
            plan = level.plan(shape)
        return self.interpret(document, plan)

    def interpret(self, document: dict[str, Any], plan: _Plan) -> dict[str, Any]:
        """``document`` with the rules applied by following ``plan`` (what
        :func:`~headwater.pii.generate.for_level` writes)."""
        result = document
        for key, site, work in plan:
            value = document[key]
            if work == _VERDICT:  # a string at a site with remembered verdicts: field(), inline
                if site.exact and site.path in self.decided:
                    continue
                short = len(value) <= _VERDICT_CHARS
                index = site.verdict(value) if short else site.decider(value)  # type: ignore[misc]
                if index < 0:
                    continue
                new = self.decide(site.records[index], value)
            elif work == _INSIDE:  # an object no rule decides, some look inside: field(), inline
                new = self.walk(value, site.inside)  # type: ignore[arg-type]
            else:
                new = self.field(site, value)
            if new is not value:
                if result is document:
                    result = dict(document)
                if new is _DROP:
                    del result[key]
                else:
                    result[key] = new
        return result

    def field(self, site: _Site, value: Any) -> Any:
        if site.exact and site.path in self.decided:
            return value  # an exact path's rule decided it: nothing here or inside
        if site.here:
            if site.verdict is not None and isinstance(value, str):
                short = len(value) <= _VERDICT_CHARS
                index = site.verdict(value) if short else site.decider(value)
                if index >= 0:
                    return self.decide(site.records[index], value)
            elif not site.strings or isinstance(value, str):
                for matcher, record in zip(site.here, site.records, strict=True):
                    if matcher.matches_value(site.path, value, site.key):
                        return self.decide(record, value)
        if site.inside is not None and isinstance(value, dict):
            return self.walk(value, site.inside)
        if isinstance(value, list):  # its elements are the segment with [] (items[])
            return self.items(value, site.elements())
        return value

    def items(self, values: list[Any], site: _Site) -> Any:
        result = values
        for index, item in enumerate(values):
            new = self.field(site, item)
            if new is not item:
                if result is values:
                    result = list(values)
                result[index] = new
        if result is not values:
            return [item for item in result if item is not _DROP]
        return values
