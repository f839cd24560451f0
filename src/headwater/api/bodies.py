"""Request bodies decoded with exact decimals (numbers with a fraction as ``Decimal``), for the
routes whose bodies hold conditions: audiences, computed traits, journeys. FastAPI's own
decoding would read ``0.1`` as a float; these routes read the body by hand and declare it in
the OpenAPI document, so that generated clients still type it.

Bad input answers 400: ``invalid_json``, or ``invalid_request`` with ``problems`` naming each
field (``{"path": "condition.count.value", "message": ...}``).
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ConfigDict, ValidationError

from headwater.audiences import decode_json
from headwater.errors import BadRequest

__all__ = ["Body", "documented", "inlined_schema", "read_body"]

M = TypeVar("M", bound=BaseModel)


class Body(BaseModel):
    """A request body: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


def documented(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` declaring ``model`` as the route's JSON body."""
    schema = {"schema": _inlined(model.model_json_schema())}
    return {"requestBody": {"required": required, "content": {"application/json": schema}}}


def inlined_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with its nested models written in place, to place inside the
    OpenAPI document (for a field read as a plain object but declared as ``model``)."""
    return _inlined(model.model_json_schema())


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its nested models (``$defs``, which a schema placed inside the OpenAPI
    document cannot reach by ``#/$defs/...``) written in place; a model that contains itself
    stays an open object below its first level."""
    defs = schema.pop("$defs", {})

    def walk(value: Any, seen: frozenset[str]) -> Any:
        if isinstance(value, list):
            return [walk(item, seen) for item in value]
        if not isinstance(value, dict):
            return value
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            return {"type": "object"} if name in seen else walk(defs[name], seen | {name})
        return {key: walk(item, seen) for key, item in value.items()}

    inlined: dict[str, Any] = walk(schema, frozenset())
    return inlined


async def read_body(request: Request, model: type[M], *, optional: bool = False) -> M:
    """The body as ``model``; with ``optional``, no body at all is ``model``'s defaults."""
    content = await request.body()
    if optional and not content.strip():
        return model()
    try:
        raw = decode_json(content)
    except ValueError as error:
        raise BadRequest("invalid_json", f"the body is not JSON: {error}") from None
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        problems = [
            {"path": ".".join(str(p) for p in e["loc"]) or "(root)", "message": e["msg"]}
            for e in error.errors()
        ]
        raise BadRequest(
            "invalid_request",
            "; ".join(f"{p['path']}: {p['message']}" for p in problems),
            problems=problems,
        ) from None
