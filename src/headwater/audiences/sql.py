"""Conditions and computed traits compiled to SQL over the profile capability's relations
(:mod:`headwater.profiles.relations`: profiles, their events, account links), for the batch
recompute and previews.

The rules are those of ``evaluate.py``, stated in SQL: a missing value or JSON ``null`` is SQL
``NULL``, every positive operator is wrapped in ``COALESCE(..., false)`` and every negative one
is ``NOT`` of its positive twin, numbers compare as ``numeric`` only when ``jsonb_typeof`` says
number, dates go through ``headwater_moment`` (migration 0005, the regular expression of
``values.ISO_MOMENT``). Parameters are positional (asyncpg's ``$n``) and typed by casts.

>>> query = audience_query(definition, workspace_id=1, subject="user", refs=Refs(), now=now)
>>> members = await driver.fetch(query.sql, *query.params)     # rows of (profile_id)

Event conditions become ``count(*) FILTER (...)`` columns of one aggregate over the profile
events (one scan for the whole audience); funnels become correlated ``EXISTS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from headwater.audiences.conditions import (
    AudienceDefinition,
    AudienceRef,
    Combination,
    Comparison,
    Condition,
    ConsentCondition,
    DefinitionError,
    EventCondition,
    EventSpec,
    FunnelCondition,
    TraitCondition,
    UsersCondition,
    Window,
)
from headwater.audiences.traits import TraitDefinition
from headwater.audiences.values import encode, split_path
from headwater.log.relation import GOVERNED_EVENTS
from headwater.profiles.relations import ACCOUNT_LINKS, PROFILE_EVENTS, PROFILES

__all__ = ["Query", "Refs", "audience_query", "trait_query"]

_NEGATED = {
    "not_equals": "equals",
    "equals_none": "equals_any",
    "not_contains": "contains",
    "not_exists": "exists",
}
_ORDER = {"less_than": "<", "greater_than": ">", "at_most": "<=", "at_least": ">="}
_COUNT = {"equals": "=", "not_equals": "<>", **_ORDER}


@dataclass(frozen=True)
class Refs:
    """The computations a condition may name: audience and computed-trait keys to ids."""

    audiences: Mapping[str, int] = field(default_factory=dict)
    traits: Mapping[str, int] = field(default_factory=dict)


@dataclass
class Query:
    sql: str = ""
    params: list[Any] = field(default_factory=list)

    def param(self, value: Any, cast: str) -> str:
        self.params.append(value)
        return f"(${len(self.params)}::{cast})"

    def jsonb(self, value: Any) -> str:
        return f"({self.param(encode(value), 'text')}::jsonb)"


class _Compiler:
    def __init__(self, query: Query, refs: Refs, now: datetime) -> None:
        self.q, self.refs, self.now = query, refs, now
        self.counts: list[str] = []
        """Filters of the aggregate's ``count(*) FILTER`` columns, c0, c1, ..."""
        self.bases: list[str] = []
        self.needs_payload = False

    # -- values --------------------------------------------------------------------------

    def compare(self, c: Comparison, x: str) -> str:
        """A boolean, never NULL: whether the jsonb expression ``x`` (NULL when missing)
        satisfies ``c``."""
        op = c.operator
        if op in _NEGATED:
            return f"(NOT {self.compare(c.model_copy(update={'operator': _NEGATED[op]}), x)})"
        if op == "exists":
            return f"({x} IS NOT NULL)"
        if op == "equals":
            return f"COALESCE({x} = {self.q.jsonb(c.value)}, false)"
        if op == "equals_any":
            assert isinstance(c.value, list)
            items = ", ".join(self.q.jsonb(v) for v in c.value)
            return f"COALESCE({x} IN ({items}), false)"
        if op in _ORDER:
            n = self.q.param(str(c.value), "text")
            return (
                f"COALESCE(CASE WHEN jsonb_typeof({x}) = 'number'"
                f" THEN ({x})::numeric {_ORDER[op]} {n}::numeric END, false)"
            )
        if op == "contains":
            s = self.q.param(c.value, "text")
            return (
                f"COALESCE(CASE jsonb_typeof({x})"
                f" WHEN 'string' THEN strpos({x} #>> '{{}}', {s}) > 0"
                f" WHEN 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements({x}) AS el(v)"
                f" WHERE el.v = to_jsonb({s})) ELSE false END, false)"
            )
        if op in ("starts_with", "ends_with"):
            s = self.q.param(c.value, "text")
            cut = "left" if op == "starts_with" else "right"
            return (
                f"COALESCE(jsonb_typeof({x}) = 'string'"
                f" AND {cut}({x} #>> '{{}}', char_length({s})) = {s}, false)"
            )
        moment = f"headwater_moment({x})"
        if op in ("before", "after"):
            t = self.q.param(c.moment(), "timestamptz")
            return f"COALESCE({moment} {'<' if op == 'before' else '>'} {t}, false)"
        assert isinstance(c.value, int)
        days = timedelta(days=c.value)
        low, high = (
            (self.now - days, self.now) if op == "within_last_days" else (self.now, self.now + days)
        )
        lo, hi = self.q.param(low, "timestamptz"), self.q.param(high, "timestamptz")
        return f"COALESCE({moment} BETWEEN {lo} AND {hi}, false)"

    def property(self, payload: str, path: str) -> str:
        self.needs_payload = True
        p = self.q.param(["properties", *split_path(path)], "text[]")
        return f"NULLIF({payload} #> {p}, 'null'::jsonb)"

    # -- events --------------------------------------------------------------------------

    def base(self, spec: EventSpec, window: Window | None, pe: str) -> str:
        """Type, name and window: what the indexes can use."""
        parts = [f"{pe}.type = {self.q.param(spec.event_type, 'text')}"]
        if spec.event is not None:
            parts.append(f"{pe}.name = {self.q.param(spec.event, 'text')}")
        if _indexed(spec):
            parts.append(f"coalesce(octet_length({pe}.name), 0) <= {_INDEXED_NAME_BYTES}")
        if window is not None:
            start, end = window.bounds(self.now)
            parts.append(
                f"{pe}.timestamp BETWEEN {self.q.param(start, 'timestamptz')}"
                f" AND {self.q.param(end, 'timestamptz')}"
            )
        return " AND ".join(parts)

    def event_filter(self, spec: EventSpec, window: Window | None, pe: str, e: str) -> str:
        parts = [self.base(spec, window, pe)]
        parts += [self.compare(f, self.property(f"{e}.payload", f.property)) for f in spec.where]
        return "(" + " AND ".join(parts) + ")"

    # -- conditions ----------------------------------------------------------------------

    def condition(self, c: Condition, p: str, a: str) -> str:
        """A boolean over the subject ``p`` whose aggregate row is ``a``."""
        if isinstance(c, Combination):
            glue = " AND " if c.type == "and" else " OR "
            return "(" + glue.join(self.condition(child, p, a) for child in c.conditions) + ")"
        if isinstance(c, TraitCondition):
            return self.compare(c, self.trait(c.trait, p))
        if isinstance(c, EventCondition):
            column = f"c{len(self.counts)}"
            self.bases.append(self.base(c, c.window, "pe"))
            self.counts.append(self.event_filter(c, c.window, "pe", "e"))
            count = f"COALESCE({a}.{column}, 0)"
            if c.count is not None:
                value = self.q.param(c.count.value, "int")
                return f"({count} {_COUNT[c.count.operator]} {value})"
            return f"({count} {'>' if c.performed else '='} 0)"
        if isinstance(c, FunnelCondition):
            return self.funnel(c, p)
        if isinstance(c, AudienceRef):
            found = self.refs.audiences.get(c.audience)
            if found is None:
                raise DefinitionError(
                    [{"path": "condition", "message": f"no audience {c.audience}"}]
                )
            exists = (
                "EXISTS (SELECT 1 FROM computed_values m WHERE m.computation_id ="
                f" {self.q.param(found, 'bigint')} AND m.profile_id = {p}.id)"
            )
            return exists if c.member else f"(NOT {exists})"
        if isinstance(c, ConsentCondition):
            category = self.q.param(c.category, "text")
            granted = f"COALESCE({p}.consent -> 'c' -> {category} = 'true'::jsonb, false)"
            return granted if c.granted else f"(NOT {granted})"
        assert isinstance(c, UsersCondition)
        counted = len(self.counts)
        inner = self.condition(c.condition, "u", "au")
        verdict = "bool_or" if c.match == "any" else "bool_and"
        join = " LEFT JOIN agg au ON au.profile_id = u.id" if len(self.counts) > counted else ""
        return (
            f"COALESCE((SELECT {verdict}({inner}) FROM {ACCOUNT_LINKS} l"
            f" JOIN {PROFILES} u ON u.id = l.user_profile_id AND u.merged_into IS NULL"
            f"{join} WHERE l.account_profile_id = {p}.id), false)"
        )

    def trait(self, name: str, p: str) -> str:
        key, *rest = split_path(name)
        computed = self.refs.traits.get(key)
        if computed is None:
            path = self.q.param([key, "v", *rest], "text[]")
            return f"NULLIF({p}.traits #> {path}, 'null'::jsonb)"
        path = self.q.param(rest, "text[]")
        return (
            "NULLIF((SELECT v.value #> " + path + " FROM computed_values v"
            f" WHERE v.computation_id = {self.q.param(computed, 'bigint')}"
            f" AND v.profile_id = {p}.id), 'null'::jsonb)"
        )

    def funnel(self, c: FunnelCondition, p: str) -> str:
        within = self.q.param(timedelta(hours=c.within_hours), "interval")
        first = self.event_filter(c.first, c.window, "f", "fe")
        then = self.event_filter(c.then, None, "t", "te")
        follows = (
            f"EXISTS (SELECT 1 FROM {PROFILE_EVENTS} t JOIN {GOVERNED_EVENTS} te ON te.seq = t.seq"
            f" WHERE t.profile_id = {p}.id AND {then} AND t.message_id <> f.message_id"
            f" AND t.timestamp BETWEEN f.timestamp AND f.timestamp + {within})"
        )
        if not c.followed:
            now = self.q.param(self.now, "timestamptz")
            follows = f"NOT {follows} AND f.timestamp + {within} <= {now}"
        return (
            f"EXISTS (SELECT 1 FROM {PROFILE_EVENTS} f JOIN {GOVERNED_EVENTS} fe ON fe.seq = f.seq"
            f" WHERE f.profile_id = {p}.id AND {first} AND {follows})"
        )


def audience_query(
    definition: AudienceDefinition,
    *,
    workspace_id: int,
    subject: str,
    refs: Refs,
    now: datetime,
) -> Query:
    """Rows ``(profile_id)`` of every live ``subject`` profile of the workspace that matches."""
    query = Query()
    compiler = _Compiler(query, refs, now)
    where = compiler.condition(definition.condition, "p", "a")
    ws = query.param(workspace_id, "int")
    head = ""
    join = ""
    if compiler.counts:
        columns = ", ".join(
            f"count(*) FILTER (WHERE {f}) AS c{i}" for i, f in enumerate(compiler.counts)
        )
        events = f" JOIN {GOVERNED_EVENTS} e ON e.seq = pe.seq" if compiler.needs_payload else ""
        bases = " OR ".join(f"({b})" for b in compiler.bases)
        head = (
            f"WITH agg AS MATERIALIZED (SELECT pe.profile_id, {columns} FROM {PROFILE_EVENTS} pe"
            f"{events} WHERE pe.workspace_id = {ws} AND ({bases}) GROUP BY pe.profile_id) "
        )
        join = " LEFT JOIN agg a ON a.profile_id = p.id"
    query.sql = (
        f"{head}SELECT p.id FROM {PROFILES} p{join} WHERE p.workspace_id = {ws}"
        f" AND p.kind = {query.param(subject, 'text')} AND p.merged_into IS NULL AND {where}"
    )
    return query


_INDEXED_NAME_BYTES = 2400
"""The partial index ``profile_events_activity`` (migration 0007) holds the events whose name
has at most this many bytes (an index row holds about 2,700, the other columns take ~80). Its
predicate is added to an event condition that implies it already, so that the planner may use
the index: it cannot prove on its own that ``name = 'X'`` implies it."""


def _indexed(spec: EventSpec) -> bool:
    """Whether every event ``spec`` selects is in ``profile_events_activity``: it names an
    event short enough, or selects identify or group calls (which have no name)."""
    if spec.event is None:
        return spec.event_type in ("identify", "group")
    return len(spec.event.encode()) <= _INDEXED_NAME_BYTES


def trait_query(definition: TraitDefinition, *, workspace_id: int, now: datetime) -> Query:
    """Rows ``(profile_id, value jsonb)`` for every user profile with a value."""
    query = Query()
    compiler = _Compiler(query, Refs(), now)
    selected = compiler.event_filter(definition, definition.window, "pe", "e")
    kind = definition.kind
    x = "" if definition.property is None else compiler.property("e.payload", definition.property)
    events = f" JOIN {GOVERNED_EVENTS} e ON e.seq = pe.seq" if compiler.needs_payload else ""
    source = (
        f"FROM {PROFILE_EVENTS} pe{events}"
        f" WHERE pe.workspace_id = {query.param(workspace_id, 'int')} AND pe.kind = 'user'"
        f" AND {selected}"
    )
    if kind == "counter":
        query.sql = f"SELECT pe.profile_id, to_jsonb(count(*)) {source} GROUP BY pe.profile_id"
        return query
    number = f"CASE WHEN jsonb_typeof({x}) = 'number' THEN ({x})::numeric END"
    text = f"(({x}) #>> '{{}}') COLLATE \"C\""
    strings = f"{source} AND jsonb_typeof({x}) = 'string'"
    if kind in ("sum", "min", "max", "average"):
        value = f"round(avg({number}), 6)" if kind == "average" else f"{kind}({number})"
        if kind == "average":
            value = f"trim_scale({value})"
        query.sql = (
            f"SELECT pe.profile_id, to_jsonb({value}) {source} GROUP BY pe.profile_id"
            f" HAVING count({number}) > 0"
        )
    elif kind in ("first", "last"):
        order = "" if kind == "first" else " DESC"
        query.sql = (
            f"SELECT DISTINCT ON (pe.profile_id) pe.profile_id, {x} {source} AND {x} IS NOT NULL"
            f" ORDER BY pe.profile_id, pe.timestamp{order}, pe.message_id{order}"
        )
    elif kind == "unique_list":
        query.sql = (
            f"SELECT pe.profile_id, to_jsonb(array_agg(DISTINCT {text} ORDER BY {text}))"
            f" {strings} GROUP BY pe.profile_id"
        )
    elif kind == "unique_count":
        query.sql = (
            f"SELECT pe.profile_id, to_jsonb(count(DISTINCT {text})) {strings}"
            " GROUP BY pe.profile_id"
        )
    else:  # most_frequent
        query.sql = (
            "SELECT DISTINCT ON (profile_id) profile_id, to_jsonb(s) FROM"
            f" (SELECT pe.profile_id, {text} AS s, count(*) AS n {strings}"
            " GROUP BY 1, 2 HAVING count(*) >= 2) AS counted ORDER BY profile_id, n DESC, s"
        )
    return query
