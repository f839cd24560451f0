"""Checking one message against a compiled plan (pure, no I/O).

>>> compiled = compile_plan(parse_plan({"name": "Web", "events": [{"name": "Signed Up",
...     "schema": {"properties": {"plan": {"type": "string"}}, "required": ["plan"]}}]}))
>>> outcome = compiled.check({"type": "track", "event": "Signed Up", "properties": {}},
...                          Enforcement(violations="block"))
>>> outcome.blocked, [v.type for v in outcome.violations]
('violations', ['required_missing'])

The fast path runs the schemas compiled by ``fastjsonschema``; only a message that fails gets
the detailed pass (``jsonschema``'s ``iter_errors``), which lists every error with its path.

Violation types: ``unplanned_event`` (a track call the plan lacks), ``additional_property`` (a
property or trait the plan does not declare, or refused by ``additionalProperties``),
``required_missing``, ``datatype_mismatch`` (``type`` and ``format``), ``enum_mismatch``
(``enum``, ``const``), ``pattern_mismatch``, and ``value_mismatch`` for every other keyword
(``minimum``, ``maxLength``…). Paths are dotted from the message's root: ``properties.total``,
``properties.items.0.sku``, ``traits.email``, ``context.app.version``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import fastjsonschema
import jsonschema
import msgspec

from headwater.protocols.plan import Enforcement, PlanDocument
from headwater.protocols.planned import Planned, planned_keys

__all__ = ["CompiledPlan", "Outcome", "Violation", "compile_plan"]

_TYPES = {
    "required": "required_missing",
    "type": "datatype_mismatch",
    "format": "datatype_mismatch",
    "additionalProperties": "additional_property",
    "enum": "enum_mismatch",
    "const": "enum_mismatch",
    "pattern": "pattern_mismatch",
}
_OMITTABLE = ("properties", "traits", "context")
Path = tuple[str | int, ...]


class Violation(msgspec.Struct, frozen=True):
    """One way a message departs from its plan."""

    type: str
    path: str
    message: str


class Outcome(msgspec.Struct, frozen=True):
    """The result of a check: ``payload`` (the original object when nothing changed) or, when
    ``blocked`` holds the reason (``unplanned_event`` or ``violations``), None."""

    payload: dict[str, Any] | None
    violations: tuple[Violation, ...]
    blocked: str | None = None


class _Found(msgspec.Struct, frozen=True):
    type: str
    parts: Path
    message: str

    def violation(self) -> Violation:
        return Violation(self.type, ".".join(str(p) for p in self.parts), self.message)


class _Schema:
    """A schema compiled twice: fast (fastjsonschema) and detailed (jsonschema), the latter
    built only when a message fails."""

    def __init__(self, schema: dict[str, Any], prefix: Path, planned: Planned | None) -> None:
        self.schema = schema
        self.prefix = prefix
        self.planned = planned
        self.fast: Callable[[Any], Any] = fastjsonschema.compile(schema, use_default=False)
        self._detailed: jsonschema.Draft7Validator | None = None

    def errors(self, instance: Any) -> list[_Found]:
        """Every error of ``instance``, empty when it is valid."""
        try:
            self.fast(instance)
        except fastjsonschema.JsonSchemaValueException as error:
            found = list(self._detailed_errors(instance))
            if found:
                return found
            # The two libraries differ on a few formats: keep the fast one's verdict.
            parts = tuple(p for p in (error.path or [])[1:] if isinstance(p, str | int))
            kind = _TYPES.get(str(error.rule), "value_mismatch")
            return [_Found(kind, self.prefix + parts, error.message[:300])]
        return []

    def _detailed_errors(self, instance: Any) -> Iterator[_Found]:
        if self._detailed is None:
            self._detailed = jsonschema.Draft7Validator(
                self.schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
            )
        for error in self._detailed.iter_errors(instance):
            at = self.prefix + tuple(error.absolute_path)
            kind = _TYPES.get(str(error.validator), "value_mismatch")
            if kind == "required_missing" and isinstance(error.instance, dict):
                for name in error.validator_value:
                    if name not in error.instance:
                        yield _Found(kind, (*at, name), f"{name!r} is required")
            elif kind == "additional_property" and isinstance(error.instance, dict):
                declared = error.schema.get("properties") or {}
                patterns = Planned(
                    keys={}, patterns=list(error.schema.get("patternProperties", ()))
                )
                for name in error.instance:
                    if name not in declared and not patterns.matches(name):
                        yield _Found(kind, (*at, name), f"{name!r} is not allowed")
            else:
                yield _Found(kind, at, error.message[:300])


class CompiledPlan:
    """A plan ready to check messages; build it once per plan version (compiling is slow)."""

    def __init__(self, plan: PlanDocument) -> None:
        common = plan.common or {}
        common_props = planned_keys(common, path=("properties", "properties"))
        common_traits = planned_keys(common, path=("properties", "traits"))
        self.events: dict[tuple[str, str], _Schema] = {
            (spec.type, spec.name): _Schema(
                spec.schema, ("properties",), _merge(planned_keys(spec.schema), common_props)
            )
            for spec in plan.events
        }
        self.traits: dict[str, _Schema] = {}
        for kind, schema in (("identify", plan.identify_traits), ("group", plan.group_traits)):
            if schema is not None:
                self.traits[kind] = _Schema(
                    schema, ("traits",), _merge(planned_keys(schema), common_traits)
                )
        self.common = _Schema(plan.common, (), None) if plan.common else None

    def check(self, payload: dict[str, Any], settings: Enforcement) -> Outcome:
        """Check one normalised message and apply ``settings``; see the module docstring."""
        kind = payload.get("type")
        found: list[_Found] = []
        schema_errors: list[_Found] = []
        rule: _Schema | None = None
        key = "properties"
        if kind in ("track", "page", "screen"):
            name = payload.get("event" if kind == "track" else "name")
            rule = self.events.get((str(kind), str(name)))
            if rule is None and kind == "track":
                found.append(_Found("unplanned_event", ("event",), f"{name!r} is not planned"))
                if settings.unplanned_events == "block":
                    return Outcome(None, _unique(found), "unplanned_event")
        elif kind in ("identify", "group"):
            rule, key = self.traits.get(str(kind)), "traits"
        work = payload
        if rule is not None:
            container = payload.get(key)
            if not isinstance(container, dict):
                container = {}
            if rule.planned is not None:
                extra = list(rule.planned.unplanned(container))
                found += [_Found("additional_property", (key, *p), "not planned") for p in extra]
                if extra and settings.unplanned_properties == "omit":
                    for path in extra:
                        container = _without(container, path)
                    work = {**payload, key: container}
            schema_errors += rule.errors(container)
        if self.common is not None:
            schema_errors += self.common.errors(work)
        found += schema_errors
        if not found:
            return Outcome(payload, ())
        violations = _unique(found)
        if schema_errors and settings.violations == "block":
            return Outcome(None, violations, "violations")
        if schema_errors and settings.violations == "omit":
            for parts in _omittable(schema_errors):
                work = _without(work, parts)
        if settings.violations == "flag":
            context = work.get("context")
            context = dict(context) if isinstance(context, dict) else {}
            context["violations"] = [msgspec.to_builtins(v) for v in violations]
            work = {**work, "context": context}
        return Outcome(work, violations)


def compile_plan(plan: PlanDocument) -> CompiledPlan:
    """Compile every schema of ``plan``."""
    return CompiledPlan(plan)


def _merge(own: Planned | None, common: Planned | None) -> Planned | None:
    if own is None or common is None:
        return own
    return own.merged(common)


def _unique(found: list[_Found]) -> tuple[Violation, ...]:
    seen: dict[tuple[str, Path], Violation] = {}
    for item in found:
        seen.setdefault((item.type, item.parts), item.violation())
    return tuple(seen.values())


def _omittable(errors: list[_Found]) -> list[Path]:
    """The fields to remove for ``omit``: the offending ones inside properties, traits or
    context (never the container itself, nor a required field that is missing); a field inside
    an array takes the whole array with it. Shortest first, descendants of a removed one
    skipped."""
    paths: set[Path] = set()
    for error in errors:
        if error.type == "required_missing" or len(error.parts) < 2:
            continue
        if error.parts[0] not in _OMITTABLE:
            continue
        parts = error.parts
        first_index = next((i for i, p in enumerate(parts) if isinstance(p, int)), None)
        if first_index is not None:
            parts = parts[:first_index]
        if len(parts) >= 2:
            paths.add(parts)
    kept: list[Path] = []
    for parts in sorted(paths, key=len):
        if not any(parts[: len(k)] == k for k in kept):
            kept.append(parts)
    return kept


def _without(value: Any, parts: Path) -> Any:
    """``value`` without the field at ``parts``, copying only what lies on the way."""
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    if isinstance(value, dict) and isinstance(head, str) and head in value:
        copy = dict(value)
        if rest:
            copy[head] = _without(value[head], rest)
        else:
            del copy[head]
        return copy
    if isinstance(value, list) and isinstance(head, int) and 0 <= head < len(value) and rest:
        items = list(value)
        items[head] = _without(value[head], rest)
        return items
    return value
