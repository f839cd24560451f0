"""The audience condition language, version 1: JSON parsed into typed, validated models.

An audience definition is ``{"version": 1, "condition": <condition>}``; a condition is one of

=============  ==========================================================================
``type``       meaning
=============  ==========================================================================
``event``      performed (or not) an event, optionally a number of times, in a time
               window, with property filters
``funnel``     performed ``first`` and then ``then`` within ``within_hours`` (or not)
``trait``      a profile trait (or a computed trait, by its key) compared with an operator
``audience``   member (or not) of another audience
``consent``    has consented (or not) to a consent category (the profile's newest
               ``context.consent.categoryPreferences``)
``users``      account audiences only: any or all users of the account match a condition
``and``/``or`` nested combinations
=============  ==========================================================================

A **list audience** has no condition: its definition is ``{"version": 1, "list": true}``
(:class:`ListDefinition`, read by :func:`parse_list`), and its members are added and removed
explicitly (the API, the CLI, a journey's ``list_membership`` node).

>>> definition = parse_audience({"version": 1, "condition": {
...     "type": "event", "event": "Order Completed",
...     "count": {"operator": "at_least", "value": 3}, "window": {"within_days": 30},
...     "where": [{"property": "total", "operator": "greater_than", "value": 50}]}})
>>> definition.condition.count.value
3

Invalid input raises :class:`DefinitionError` listing every problem with its JSON path.
``docs/audiences.md`` is the reference; the semantics of each operator live in
``evaluate.py`` (in memory) and ``sql.py`` (in SQL).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from headwater.audiences.values import parse_moment

__all__ = [
    "KEY_PATTERN",
    "VERSION",
    "AudienceDefinition",
    "AudienceRef",
    "Combination",
    "Comparison",
    "Condition",
    "ConsentCondition",
    "Count",
    "DefinitionError",
    "EventCondition",
    "EventSpec",
    "FunnelCondition",
    "ListDefinition",
    "Operator",
    "PropertyFilter",
    "Scalar",
    "TraitCondition",
    "UsersCondition",
    "Window",
    "is_list",
    "parse_audience",
    "parse_list",
    "problems_of",
    "walk",
]

VERSION = 1
"""The language version this server reads and writes."""

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
"""Audience and computed-trait keys: the trait name they become in destinations."""

Scalar = StrictBool | StrictInt | Decimal | StrictStr
Operator = Literal[
    "equals",
    "not_equals",
    "less_than",
    "greater_than",
    "at_most",
    "at_least",
    "equals_any",
    "equals_none",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "exists",
    "not_exists",
    "before",
    "after",
    "within_last_days",
    "within_next_days",
]
_NUMERIC = {"less_than", "greater_than", "at_most", "at_least"}
_STRING = {"contains", "not_contains", "starts_with", "ends_with"}
_LIST = {"equals_any", "equals_none"}
_NONE = {"exists", "not_exists"}
_MOMENT = {"before", "after"}
_DAYS = {"within_last_days", "within_next_days"}
_MAX_DAYS = 36_600
"""The longest span in days a window or a day operator takes (a century): any longer one
cannot be represented once subtracted from now, and means nothing for an audience."""
_COUNT_MAX = 2**63 - 1  # a count is compared in SQL as a bigint
EventType = Literal["track", "page", "screen", "identify", "group"]


class DefinitionError(ValueError):
    """A definition that cannot be used; ``problems`` are ``{"path", "message"}`` items."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{p['path']}: {p['message']}" for p in problems))
        self.problems = problems


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Comparison(_Model):
    """An operator and its value; which values each operator takes is checked here."""

    operator: Operator
    value: Scalar | list[Scalar] | None = None

    @model_validator(mode="after")
    def _value_fits(self) -> Comparison:
        op, value = self.operator, self.value
        if op in _NONE:
            if value is not None:
                raise ValueError(f"{op} takes no value")
        elif op in _LIST:
            if not isinstance(value, list) or not value:
                raise ValueError(f"{op} takes a non-empty list of values")
        elif isinstance(value, list) or value is None:
            raise ValueError(f"{op} takes one value")
        elif op in _NUMERIC and not _is_number(value):
            raise ValueError(f"{op} compares numbers: the value must be a number")
        elif op in _STRING and not isinstance(value, str):
            raise ValueError(f"{op} compares text: the value must be a string")
        elif op in _MOMENT and parse_moment(value) is None:
            raise ValueError(f"{op} takes an ISO-8601 date, like 2026-03-01 or 2026-03-01T10:00Z")
        elif op in _DAYS and not (
            _is_number(value) and isinstance(value, int) and 0 < value <= _MAX_DAYS
        ):
            raise ValueError(f"{op} takes a whole number of days from 1 to {_MAX_DAYS}")
        return self

    def moment(self) -> datetime:
        """The value of ``before``/``after`` as a UTC datetime."""
        moment = parse_moment(self.value)
        assert moment is not None  # validated
        return moment


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


class PropertyFilter(Comparison):
    """A filter on an event's ``properties``; ``property`` may be a dotted path."""

    property: Annotated[str, Field(min_length=1)]


class TraitCondition(Comparison):
    """A trait of the profile (or, for a computed trait's key, its value)."""

    type: Literal["trait"]
    trait: Annotated[str, Field(min_length=1)]


class Window(_Model):
    """``{"within_days": N}``: the last N days (N x 24 hours) up to now; ``{"between_days":
    [N, M]}``: from M to N days ago. Both ends are included."""

    within_days: Annotated[int, Field(gt=0, le=_MAX_DAYS)] | None = None
    between_days: (
        tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(gt=0, le=_MAX_DAYS)]] | None
    ) = None

    @model_validator(mode="after")
    def _one(self) -> Window:
        if (self.within_days is None) == (self.between_days is None):
            raise ValueError("a window has within_days or between_days, not both")
        if self.between_days is not None and self.between_days[0] >= self.between_days[1]:
            raise ValueError("between_days is [N, M] with N < M: from M days ago to N days ago")
        return self

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """The first and last moment in the window, both included."""
        if self.within_days is not None:
            return now - timedelta(days=self.within_days), now
        assert self.between_days is not None
        near, far = self.between_days
        return now - timedelta(days=far), now - timedelta(days=near)


class EventSpec(_Model):
    """Which events: a type, a name (a track's event, a page's or screen's name; none for
    identify and group, or for any page) and property filters, all of which must hold."""

    event: Annotated[str, Field(min_length=1)] | None = None
    event_type: EventType = "track"
    where: list[PropertyFilter] = []

    @model_validator(mode="after")
    def _named(self) -> EventSpec:
        if self.event_type == "track" and self.event is None:
            raise ValueError("a track condition names its event")
        if self.event_type in ("identify", "group") and self.event is not None:
            raise ValueError(f"{self.event_type} calls have no name: leave event out")
        return self


class Count(_Model):
    operator: Literal["equals", "not_equals", "less_than", "greater_than", "at_most", "at_least"]
    value: Annotated[StrictInt, Field(ge=0, le=_COUNT_MAX)]


class EventCondition(EventSpec):
    """Performed (``performed``, default true) or not; with ``count``, a number of times."""

    type: Literal["event"]
    performed: StrictBool = True
    count: Count | None = None
    window: Window | None = None

    @model_validator(mode="after")
    def _count_or_not(self) -> EventCondition:
        if self.count is not None and not self.performed:
            raise ValueError("give count or performed: false, not both")
        return self


class FunnelCondition(_Model):
    """``first`` (in ``window``), then ``then`` at most ``within_hours`` later; with
    ``followed: false``, ``first`` and no ``then`` in the ``within_hours`` after it, once those
    hours have passed (an abandoned cart)."""

    type: Literal["funnel"]
    first: EventSpec
    then: EventSpec
    within_hours: Annotated[StrictInt, Field(gt=0, le=24 * 366)]
    followed: StrictBool = True
    window: Window | None = None


class AudienceRef(_Model):
    type: Literal["audience"]
    audience: Annotated[str, Field(pattern=KEY_PATTERN)]
    member: StrictBool = True


class ConsentCondition(_Model):
    """The profile has consented (``granted``, default true) to ``category`` in its newest
    consent preferences, or has not (``granted: false``): a category the preferences leave
    out, or a profile that never sent any, counts as not consented."""

    type: Literal["consent"]
    category: Annotated[str, Field(min_length=1, max_length=200)]
    granted: StrictBool = True


class UsersCondition(_Model):
    """In an account audience: ``any`` or ``all`` of the account's users match ``condition``
    (``all`` needs at least one user)."""

    type: Literal["users"]
    match: Literal["any", "all"]
    condition: Condition


class Combination(_Model):
    type: Literal["and", "or"]
    conditions: Annotated[list[Condition], Field(min_length=1)]


Condition = Annotated[
    EventCondition
    | FunnelCondition
    | TraitCondition
    | AudienceRef
    | ConsentCondition
    | UsersCondition
    | Combination,
    Field(discriminator="type"),
]
UsersCondition.model_rebuild()
Combination.model_rebuild()


class AudienceDefinition(_Model):
    version: Literal[1]
    condition: Condition


class ListDefinition(_Model):
    """A list audience: members are set explicitly, never computed from a condition."""

    version: Literal[1]
    list: Literal[True]


def walk(condition: Condition) -> list[Condition]:
    """Every node of a condition tree, parents before children."""
    found: list[Condition] = [condition]
    if isinstance(condition, Combination):
        for child in condition.conditions:
            found += walk(child)
    elif isinstance(condition, UsersCondition):
        found += walk(condition.condition)
    return found


def problems_of(error: ValidationError) -> list[dict[str, str]]:
    """pydantic's errors as ``{"path", "message"}`` with JSON paths like ``condition.count``."""
    problems = []
    for item in error.errors():
        # discriminated unions name the tag in the path: condition.and.conditions.0.event.count
        path = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        problems.append({"path": path or "(root)", "message": message})
    return problems


def _version(raw: Any) -> None:
    if not isinstance(raw, dict):
        raise DefinitionError([{"path": "(root)", "message": "a definition is a JSON object"}])
    if raw.get("version") != VERSION:
        raise DefinitionError(
            [
                {
                    "path": "version",
                    "message": f"unsupported version {raw.get('version')!r}; "
                    f"this server reads version {VERSION}",
                }
            ]
        )


def is_list(raw: Any) -> bool:
    """Whether a decoded audience definition is meant as a list audience's (it has ``list``):
    :func:`parse_list` reads it, and says what is wrong with it."""
    return isinstance(raw, dict) and "list" in raw


def parse_list(raw: Any) -> ListDefinition:
    """Validate a list audience's definition, ``{"version": 1, "list": true}``.

    >>> parse_list({"version": 1, "list": True}).list
    True
    """
    _version(raw)
    if "condition" in raw:
        raise DefinitionError(
            [{"path": "condition", "message": "a list audience has no condition: leave it out"}]
        )
    try:
        return ListDefinition.model_validate(raw)
    except ValidationError as error:
        raise DefinitionError(problems_of(error)) from None


def parse_audience(raw: Any) -> AudienceDefinition:
    """Validate a decoded JSON definition (numbers as ``Decimal``, see ``values.decode``)."""
    _version(raw)
    try:
        definition = AudienceDefinition.model_validate(raw)
    except ValidationError as error:
        raise DefinitionError(problems_of(error)) from None
    nested = [n for n in walk(definition.condition) if isinstance(n, UsersCondition)]
    for node in nested:
        if any(isinstance(inner, UsersCondition) for inner in walk(node.condition)):
            raise DefinitionError(
                [{"path": "condition", "message": "users conditions cannot be nested"}]
            )
    return definition
