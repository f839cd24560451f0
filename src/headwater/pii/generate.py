"""Python written for compiled PII rules: what :func:`~headwater.pii.rules.apply` does for one
rule set, as straight code (pure, no I/O).

Two kinds of programs, each ``program(walker, document) -> new document``:

- :func:`for_message`: the exact paths looked up in a message, then its roots walked (one per rule
  set);
- :func:`for_level`: the fields of an object with given keys in a given order that a rule may
  decide or look inside, at one path (one per path and keys).

They do what the interpreter in :mod:`headwater.pii.rules` does with the same plans, without
its loops and dispatch: the interpreter applies what it has seen less often than
``compile_rules(generate_after=...)`` times, then the program made for it. Nothing of the
rules or the messages is written into the source: keys, paths, patterns, sites and records
are constants the code names (``c0``, ``c1``...), bound when the program is made; the source
holds only names we chose, ``0``, ``1``... (indexes) and the fixed length of remembered
verdicts.

>>> from headwater.pii import Rule, apply, compile_rules
>>> rule = Rule(id=1, path="properties.*", detector="email", action="redact")
>>> rules = compile_rules([rule], generate_after=1)
>>> [apply(rules, {"properties": {"to": "a@b.co"}}).payload for _ in range(2)]
[{'properties': {'to': '[redacted]'}}, {'properties': {'to': '[redacted]'}}]
>>> [list(level.programs) for _, level in rules.shapes.roots]  # the second ran a program
[[('to',)]]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, cast

if TYPE_CHECKING:
    from headwater.pii.rules import Applied, _Level, _Node, _Site, _Walker

__all__ = ["Field", "Program", "for_level", "for_message"]

Field = tuple[str, "_Site", Mapping[type, int | None]]
"""A key of an object, its site, and the work each type of value needs there."""

_Names = tuple[str, str, str, str, str]
"""The names of a document, its result, a key, its value and its new value in the code."""

Program = Callable[["_Walker", dict[str, Any]], Any]
"""A generated program: the walker of one message, the document, and the document after the
rules (the given one when nothing changed; raises the runtime's ``Blocked`` for a block)."""

_FIELD: Final = 0
_VERDICT: Final = 1
_INSIDE: Final = 2
"""The plan's kinds of work (those of :mod:`headwater.pii.rules`)."""

_DEEPEST: Final = 8
"""Exact paths deeper than this are looked up by the interpreter (:meth:`_Walker.exact`):
Python's parser limits how deeply code may nest."""


class _Writer:
    """Source lines and the constants they name."""

    def __init__(self, runtime: Mapping[str, object]) -> None:
        self.runtime = runtime
        self.lines: list[str] = []
        self.constants: list[object] = []
        self.names: dict[int, str] = {}
        """By ``id``: each constant named once (the list keeps it alive, so ids stay its)."""

    def constant(self, value: object) -> str:
        name = self.names.get(id(value))
        if name is None:
            name = self.names[id(value)] = f"c{len(self.constants)}"
            self.constants.append(value)
        return name

    def line(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def decide(self, indent: int, record: Applied, names: _Names) -> None:
        """Lines deciding the field ``value`` by ``record`` (as :meth:`_Walker.decide`),
        recording it, and storing its new value."""
        document, result, key, value, new = names
        self.line(indent, f"w.applied.append({self.constant(record)})")
        action = record.action
        if action == "block":
            self.line(indent, f"w.outcome.blocked = {self.constant(record.blocks())}")
            self.line(indent, "raise Blocked")
        elif action == "drop":
            self.copy(indent, document, result)
            self.line(indent, f"del {result}[{key}]")
        elif action in ("redact", "hash"):
            if action == "redact":
                self.line(indent, f"{new} = REDACTED if {value} is not None else None")
            else:
                self.line(
                    indent, f"{new} = digest({value}, w.salt) if {value} is not None else None"
                )
            self.store(indent, names, drops=False)
        # allow, mask: stored as sent

    def store(self, indent: int, names: _Names, *, drops: bool) -> None:
        """Lines putting ``new`` at ``key`` of the result if it is not ``value`` (``DROP``
        removes the key, if it ``drops``)."""
        document, result, key, value, new = names
        self.line(indent, f"if {new} is not {value}:")
        self.copy(indent + 1, document, result)
        if drops:
            self.line(indent + 1, f"if {new} is DROP:")
            self.line(indent + 2, f"del {result}[{key}]")
            self.line(indent + 1, "else:")
            indent += 1
        self.line(indent + 1, f"{result}[{key}] = {new}")

    def copy(self, indent: int, document: str, result: str) -> None:
        """Lines copying the document into the result, once."""
        self.line(indent, f"if {result} is {document}:")
        self.line(indent + 1, f"{result} = dict({document})")

    def program(self) -> Program:
        """The lines as a program, its constants bound (compiled once, here)."""
        parameters = ", ".join(f"c{n}" for n in range(len(self.constants)))
        body = "\n".join(self.lines)
        source = f"def make({parameters}):\n    def program(w, d0):\n{body}\n    return program\n"
        namespace = dict(self.runtime)
        exec(compile(source, "<pii rules>", "exec"), namespace)  # our code, the data constants
        make = cast("Callable[..., Program]", namespace["make"])
        return make(*self.constants)


def for_level(
    fields: Iterable[Field], verdict_chars: int, runtime: Mapping[str, object]
) -> Program:
    """The program walking an object with given keys in a given order (as
    :meth:`_Walker.interpret` with the plan of its shape, whatever the types of its values):
    ``fields`` are those of its keys a rule may decide or look inside, each with its site and
    the work each type of value decoded from JSON needs there (:func:`_work`; any other type:
    :meth:`_Walker.field`). Strings of at most ``verdict_chars`` characters take their site's
    remembered verdict."""
    writer = _Writer(runtime)
    writer.line(2, "r0 = d0")
    for key, site, works in fields:
        name = writer.constant(key)
        names = ("d0", "r0", name, "v0", "n0")
        writer.line(2, f"v0 = d0[{name}]")
        writer.line(2, "t = type(v0)")
        branch = "if"
        if works[str] == _VERDICT:
            writer.line(2, "if t is str:")
            _verdict(writer, site, int(verdict_chars), names)
            branch = "elif"
        if works[dict] == _INSIDE:
            writer.line(2, f"{branch} t is dict:")
            inside = site.inside
            assert inside is not None
            programs = writer.constant(inside.programs)
            writer.line(3, f"p = {programs}.get(tuple(v0))")
            level = writer.constant(inside)
            writer.line(3, f"n0 = p(w, v0) if p is not None else w.walk(v0, {level})")
            writer.store(3, names, drops=False)
            branch = "elif"
        others = frozenset(kind for kind, work in works.items() if work != _FIELD)
        writer.line(2, f"{branch} t not in {writer.constant(others)}:")
        writer.line(3, f"n0 = w.field({writer.constant(site)}, v0)")
        writer.store(3, names, drops=True)
    writer.line(2, "return r0")
    return writer.program()


def _verdict(writer: _Writer, site: _Site, verdict_chars: int, names: _Names) -> None:
    """Lines deciding the string ``v0`` by the site's remembered verdict (its own check when
    longer than ``verdict_chars``)."""
    indent = 3
    if site.exact:  # an exact path's rule may have decided it: nothing else here
        writer.line(3, f"if {writer.constant(site.path)} not in w.decided:")
        indent = 4
    verdict = writer.constant(site.verdict)
    decider = writer.constant(site.decider)
    writer.line(indent, f"i = {verdict}(v0) if len(v0) <= {verdict_chars} else {decider}(v0)")
    for index, record in enumerate(site.records):
        writer.line(indent, f"{'elif' if index else 'if'} i == {int(index)}:")
        writer.decide(indent + 1, record, names)


def for_message(
    exact: dict[str, _Node],
    roots: Iterable[tuple[str, _Level]],
    runtime: Mapping[str, object],
) -> Program:
    """The program applying rules to a message: the exact paths under ``exact`` (as
    :meth:`_Walker.exact`), then a walk of each of ``roots`` that is an object no exact rule
    decided."""
    writer = _Writer(runtime)
    if exact:
        _exact(writer, exact, 0, 2)
    else:
        writer.line(2, "r0 = d0")
    for root, walked in roots:
        name = writer.constant(root)
        writer.line(2, f"v0 = r0.get({name})")
        writer.line(2, f"if isinstance(v0, dict) and {name} not in w.decided:")
        writer.line(3, f"p = {writer.constant(walked.programs)}.get(tuple(v0))")
        level = writer.constant(walked)
        writer.line(3, f"n0 = p(w, v0) if p is not None else w.walk(v0, {level})")
        writer.line(3, "if n0 is not v0:")
        writer.line(4, f"r0 = {{**r0, {name}: n0}}")
    writer.line(2, "return r0")
    return writer.program()


def _exact(writer: _Writer, nodes: dict[str, _Node], depth: int, indent: int) -> None:
    """Lines setting ``r<depth>`` to ``d<depth>`` with the exact paths under ``nodes`` decided."""
    document, result, value, new = (f"{v}{depth}" for v in "drvn")
    writer.line(indent, f"{result} = {document}")
    for key, node in nodes.items():
        name = writer.constant(key)
        names = (document, result, name, value, new)
        writer.line(indent, f"{value} = {document}.get({name}, ABSENT)")
        writer.line(indent, f"if {value} is not ABSENT:")
        inner = indent + 1
        path = writer.constant(node.path)
        opened = False  # an if of the matchers' conditions is open
        for matcher in node.matchers:
            body = inner
            if not matcher.always:
                condition = f"{writer.constant(matcher)}.matches({path}, {name}, {value})"
                writer.line(inner, f"{'elif' if opened else 'if'} {condition}:")
                body, opened = inner + 1, True
            elif opened:
                writer.line(inner, "else:")
                body = inner + 1
            writer.line(body, f"w.decided.add({path})")
            assert matcher.record is not None
            writer.decide(body, matcher.record, names)
            if matcher.always:
                break
        else:
            if node.children:
                if opened:
                    writer.line(inner, "else:")
                below = inner + 1 if opened else inner
                writer.line(below, f"if isinstance({value}, dict):")
                _children(writer, node, depth, below + 1)
                writer.store(below + 1, names, drops=False)


def _children(writer: _Writer, node: _Node, depth: int, indent: int) -> None:
    """Lines setting ``n<depth>`` to the object ``v<depth>`` with ``node``'s children decided."""
    value, new = f"v{depth}", f"n{depth}"
    if depth + 1 >= _DEEPEST:
        writer.line(indent, f"{new} = w.exact({value}, {writer.constant(node.children)})")
        return
    writer.line(indent, f"d{depth + 1} = {value}")
    _exact(writer, node.children, depth + 1, indent)
    writer.line(indent, f"{new} = r{depth + 1}")
