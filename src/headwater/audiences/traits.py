"""Computed-trait definitions, version 1: one value per profile, computed from its events.

``{"version": 1, "kind": <kind>, "event": ..., "event_type": "track", "where": [...],
"window": {...}, "property": ...}`` with ``kind`` one of

=================  ===============================================================  ==========
kind               value                                                            property
=================  ===============================================================  ==========
``counter``        how many matching events (none: no value)                        no
``sum``            sum of a numeric property                                        number
``average``        average of a numeric property, rounded to 6 decimal places       number
``min``/``max``    smallest/largest numeric property value                          number
``most_frequent``  the string value seen most often, at least twice; ties go to     string
                   the first in alphabetical (code point) order
``first``/``last`` the property's value on the first/last matching event that has   any
                   it, by (timestamp, messageId)
``unique_list``    the distinct string values, sorted                               string
``unique_count``   how many distinct string values                                  string
=================  ===============================================================  ==========

Events without the property, or whose value is not of the kind's type, are skipped; a
profile with nothing to compute has no value (``null`` in destinations).

>>> parse_trait({"version": 1, "kind": "sum", "event": "Order Completed",
...              "property": "total", "window": {"within_days": 90}}).kind
'sum'
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from headwater.audiences.conditions import (
    VERSION,
    DefinitionError,
    EventSpec,
    Window,
    problems_of,
)

__all__ = ["NUMERIC_KINDS", "STRING_KINDS", "TraitDefinition", "TraitKind", "parse_trait"]

TraitKind = Literal[
    "counter",
    "sum",
    "average",
    "min",
    "max",
    "most_frequent",
    "first",
    "last",
    "unique_list",
    "unique_count",
]
NUMERIC_KINDS = frozenset({"sum", "average", "min", "max"})
STRING_KINDS = frozenset({"most_frequent", "unique_list", "unique_count"})


class TraitDefinition(EventSpec):
    version: Literal[1]
    kind: TraitKind
    property: Annotated[str, Field(min_length=1)] | None = None
    window: Window | None = None

    @model_validator(mode="after")
    def _property(self) -> TraitDefinition:
        if self.kind == "counter" and self.property is not None:
            raise ValueError("a counter counts events: leave property out")
        if self.kind != "counter" and self.property is None:
            raise ValueError(f"{self.kind} needs the property it reads")
        return self


def parse_trait(raw: Any) -> TraitDefinition:
    """Validate a decoded JSON computed-trait definition; raise :class:`DefinitionError`."""
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
    try:
        return TraitDefinition.model_validate(raw)
    except ValidationError as error:
        raise DefinitionError(problems_of(error)) from None
