"""Destination instances as data: delivery options, filters and their conditions (pure).

A destination is one configured connector in one workspace::

    Destination(id=3, workspace_id=1, name="Orders hook", kind="webhook",
                config={"url": "https://example.com/hook"}, sources=None, filters=[...],
                categories=None, options=DeliveryOptions(), enabled=True, ...)

``sources`` None means every source of the workspace; ``categories`` None means the
connector's default consent categories. Filters are pydantic models so that their JSON Schema
documents the API (and renders the UI's forms); :mod:`headwater.routing.rules` applies
them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
import pydantic

__all__ = [
    "AllOf",
    "AnyOf",
    "Compare",
    "Condition",
    "DeliveryOptions",
    "Destination",
    "Filter",
    "FilterList",
    "NotOf",
]


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class DeliveryOptions(_Strict):
    """How the delivery engine treats one destination (not the connector's config)."""

    batch_size: int | None = pydantic.Field(
        default=None, ge=1, le=1000, description="events per send; default: the connector's"
    )
    concurrency: int = pydantic.Field(
        default=2, ge=1, le=64, description="sends in flight at once, per worker process"
    )
    rate_limit: float | None = pydantic.Field(
        default=None, gt=0, description="events per second, per worker process; none: unlimited"
    )
    ordered: bool = pydantic.Field(
        default=False,
        description="one user's events are sent one at a time, in the order received",
    )
    retry_window_seconds: float | None = pydantic.Field(
        default=None, gt=0, description="retry this long, then dead-letter; default: setting"
    )
    timeout_seconds: float = pydantic.Field(default=10.0, gt=0, le=300)
    alert_below: float = pydantic.Field(
        default=0.9, ge=0, le=1, description="alert when the success rate falls below this"
    )
    alert_window_minutes: int = pydantic.Field(default=15, ge=1, le=1440)


Op = Literal[
    "eq",
    "ne",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "ends_with",
    "exists",
    "missing",
    "gt",
    "gte",
    "lt",
    "lte",
]


class Compare(_Strict):
    """``field`` (a dotted path into the event, e.g. ``properties.plan``) compared to ``value``."""

    field: str = pydantic.Field(min_length=1)
    op: Op = "eq"
    value: Any = None


class AllOf(_Strict):
    all: list[Condition]


class AnyOf(_Strict):
    any: list[Condition]


class NotOf(_Strict):
    not_: Condition = pydantic.Field(alias="not")


Condition = Compare | AllOf | AnyOf | NotOf
for _model in (AllOf, AnyOf, NotOf):
    _model.model_rebuild()


class Sample(_Strict):
    """Keep ``percent`` of events, chosen by a hash of the messageId (stable across retries)."""

    type: Literal["sample"]
    percent: float = pydantic.Field(ge=0, le=100)


class DropWhen(_Strict):
    type: Literal["drop"]
    when: Condition


class OnlyWhen(_Strict):
    type: Literal["only"]
    when: Condition


class DropProperties(_Strict):
    """Remove these dotted paths (``properties.email``, ``context.ip``, ``traits.phone``)."""

    type: Literal["drop_properties"]
    paths: list[str]


class AllowProperties(_Strict):
    """Keep only these paths inside each object they name: ``properties.plan`` keeps ``plan``
    and drops every other key of ``properties``; objects not named are untouched."""

    type: Literal["allow_properties"]
    paths: list[str]


Filter = Annotated[
    Sample | DropWhen | OnlyWhen | DropProperties | AllowProperties,
    pydantic.Field(discriminator="type"),
]
FilterList = pydantic.TypeAdapter(list[Filter])
"""Validates a JSON list of filters: ``FilterList.validate_python(raw)``."""


class Destination(msgspec.Struct, frozen=True, kw_only=True):
    """A stored destination; ``config`` holds secret fields still encrypted."""

    id: int
    workspace_id: int
    name: str
    kind: str
    config: dict[str, Any]
    sources: list[int] | None
    filters: list[Any]
    categories: list[str] | None
    options: dict[str, Any]
    enabled: bool
    created_at: datetime
    updated_at: datetime

    def delivery_options(self) -> DeliveryOptions:
        return DeliveryOptions.model_validate(self.options)

    def parsed_filters(self) -> list[Filter]:
        return FilterList.validate_python(self.filters)

    def receives_from(self, source_id: int) -> bool:
        return self.sources is None or source_id in self.sources
