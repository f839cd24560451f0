"""Management API: PII rules, a test run of them on a sample, and the inbox of observed fields
that look personal (docs/privacy.md, "PII rules").

Bodies are read by hand and validated by the service, so that a bad regular expression or an
unknown detector answers 400 ``invalid_rule`` naming the ``field``. A change takes effect at
once in this process (its collector's cache is emptied) and in the others when its
notification arrives (``pii.RuleBook.watch``; the processor's routing rereads rules scoped to
destinations in the first batch after the change commits).
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from fastapi import APIRouter, Request
from pydantic import Field

from headwater import pii, protocols
from headwater.api.bodies import Body, documented
from headwater.api.params import BigId
from headwater.api.scope import SCOPED, WORKSPACE, Allowed
from headwater.errors import BadRequest
from headwater.runtime import Runtime

__all__ = ["router"]

router = APIRouter(prefix=WORKSPACE, tags=["privacy"], dependencies=SCOPED)

_RULES = "/pii-rules"
_INBOX = "/pii-inbox"

ActionName = Literal["allow", "mask", "hash", "redact", "drop", "block"]


class RuleIn(Body):
    """A PII rule: at least one condition, an action, and its scope."""

    name: str | None = None
    path: str | None = Field(None, description="dotted path; * one segment, ** any, [] arrays")
    key: str | None = Field(None, description="regular expression searched in the key")
    value: str | None = Field(None, description="regular expression searched in string values")
    detector: str | None = Field(None, description="a built-in detector (email, phone, ...)")
    action: ActionName
    sources: list[int] | None = None
    destinations: list[int] | None = None
    enabled: bool = True


class RuleChange(Body):
    """Any of a rule's fields; null clears a condition or a scope."""

    name: str | None = None
    path: str | None = None
    key: str | None = None
    value: str | None = None
    detector: str | None = None
    action: ActionName | None = None
    sources: list[int] | None = None
    destinations: list[int] | None = None
    enabled: bool | None = None


class TestIn(Body):
    """A sample message, and optionally the source and destination to test for."""

    message: dict[str, Any]
    source_id: int | None = None
    destination_id: int | None = None


class DismissIn(Body):
    path: str
    dismissed: bool = True


class ClassifyIn(RuleIn):
    """A rule on the inbox field's exact ``path``."""

    path: str


async def _json(request: Request) -> Any:
    try:
        return msgspec.json.decode(await request.body())
    except msgspec.DecodeError as error:
        raise BadRequest("invalid_json", f"the body is not JSON: {error}") from None


def _changed(runtime: Runtime) -> None:
    """Apply a change at once in this process's collection and masking."""
    runtime.collector.pii.forget()


@router.get(_RULES)
async def list_rules(workspace: str, runtime: Allowed) -> list[pii.RuleView]:
    """The workspace's PII rules, oldest first."""
    return await pii.list_rules(runtime.database.engine, workspace=workspace)


@router.post(_RULES, status_code=201, openapi_extra=documented(RuleIn))
async def create_rule(workspace: str, request: Request, runtime: Allowed) -> pii.RuleView:
    """Add a rule. A bad regular expression, path or detector answers 400 ``invalid_rule``
    with ``field``."""
    created = await pii.create_rule(
        runtime.database.engine, workspace=workspace, body=await _json(request)
    )
    _changed(runtime)
    return created


@router.post(_RULES + "/test", openapi_extra=documented(TestIn))
async def test_rules(workspace: str, request: Request, runtime: Allowed) -> pii.TestView:
    """Run the rules on a sample message and show each field decided; nothing is stored."""
    return await pii.try_rules(
        runtime.database.engine, workspace=workspace, body=await _json(request)
    )


@router.get(_RULES + "/{rule_id}")
async def get_rule(workspace: str, rule_id: BigId, runtime: Allowed) -> pii.RuleView:
    return await pii.get_rule(runtime.database.engine, workspace=workspace, rule_id=rule_id)


@router.patch(_RULES + "/{rule_id}", openapi_extra=documented(RuleChange))
async def update_rule(
    workspace: str, rule_id: BigId, request: Request, runtime: Allowed
) -> pii.RuleView:
    """Change the fields given."""
    updated = await pii.update_rule(
        runtime.database.engine, workspace=workspace, rule_id=rule_id, body=await _json(request)
    )
    _changed(runtime)
    return updated


@router.delete(_RULES + "/{rule_id}")
async def delete_rule(workspace: str, rule_id: BigId, runtime: Allowed) -> pii.RuleDeletedView:
    deleted = await pii.delete_rule(runtime.database.engine, workspace=workspace, rule_id=rule_id)
    _changed(runtime)
    return deleted


@router.get(_INBOX)
async def inbox(workspace: str, runtime: Allowed) -> list[pii.InboxItemView]:
    """Observed fields (tracking plans' observed schema) whose key or values look personal and
    that no rule classifies and nobody marked "not personal"."""
    engine = runtime.database.engine
    observed = [
        pii.ObservedPath(**field)
        for field in await protocols.observed_fields(engine, workspace=workspace)
    ]
    return await pii.list_inbox(engine, workspace=workspace, observed=observed)


@router.post(_INBOX + "/classify", status_code=201, openapi_extra=documented(ClassifyIn))
async def classify(workspace: str, request: Request, runtime: Allowed) -> pii.RuleView:
    """Classify a field: a rule on its path with the action given."""
    created = await pii.classify(
        runtime.database.engine, workspace=workspace, body=await _json(request)
    )
    _changed(runtime)
    return created


@router.post(_INBOX + "/dismiss", openapi_extra=documented(DismissIn))
async def dismiss(workspace: str, request: Request, runtime: Allowed) -> pii.DismissedView:
    """Mark a field "not personal" (it leaves the inbox); ``dismissed: false`` brings it back."""
    return await pii.dismiss(
        runtime.database.engine, workspace=workspace, body=await _json(request)
    )
