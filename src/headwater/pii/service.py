"""PII rules' operations for the management API and the CLI: each owns its transaction.

>>> await create_rule(engine, workspace="default",
...                   body={"path": "properties.email", "action": "hash"})
{'id': 1, 'name': 'properties.email', 'action': 'hash', ...}

A rule that hashes creates the workspace's secret in its transaction when there is none yet
(``workspaces.pii_salt``: the salt is derived from the workspace's one key, never shown).
:func:`try_rules` runs the rules on a sample and stores nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import destinations, workspaces
from headwater.errors import BadRequest, NotFound
from headwater.pii import store
from headwater.pii.inbox import ObservedPath, inbox, key_of
from headwater.pii.rules import Action, Rule, apply, compile_rules, validate
from headwater.pii.views import (
    AppliedView,
    DismissedView,
    InboxItemView,
    RuleDeletedView,
    RuleView,
    TestView,
    rule_view,
)
from headwater.storage import Transaction, connected, transaction

__all__ = [
    "classify",
    "create_rule",
    "delete_rule",
    "dismiss",
    "get_rule",
    "list_inbox",
    "list_rules",
    "try_rules",
    "update_rule",
]

_MAX_PATTERN: Final = 1000


class _RuleInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str | None = None
    path: str | None = None
    key: str | None = None
    value: str | None = None
    detector: str | None = None
    action: Action
    sources: list[int] | None = None
    destinations: list[int] | None = None
    enabled: bool = True


def _parse(body: Any, rule_id: int = 0) -> Rule:
    if not isinstance(body, dict):
        raise BadRequest("invalid_rule", "the body is a JSON object", field=None)
    try:
        given = msgspec.convert(body, _RuleInput)
    except msgspec.ValidationError as error:
        found = re.search(r"\$\.(\w+)", str(error))
        name = found.group(1) if found else None
        raise BadRequest("invalid_rule", f"{name or 'body'}: {error}", field=name) from None
    for name in ("path", "key", "value"):
        text = getattr(given, name)
        if text is not None and len(text) > _MAX_PATTERN:
            raise BadRequest(
                "invalid_rule", f"{name}: at most {_MAX_PATTERN} characters", field=name
            )
    label = given.name or given.path or given.key or given.detector or given.value or ""
    rule = Rule(
        id=rule_id,
        name=label[:200],
        path=given.path or None,
        key=given.key or None,
        value=given.value or None,
        detector=given.detector or None,
        action=given.action,
        sources=sorted(set(given.sources)) if given.sources is not None else None,
        destinations=sorted(set(given.destinations)) if given.destinations is not None else None,
        enabled=given.enabled,
    )
    validate(rule)
    return rule


async def _check_scope(
    connection: Transaction, workspace: str, workspace_id: int, rule: Rule
) -> None:
    foreign = await workspaces.foreign_sources(connection, workspace_id, rule.sources or [])
    if foreign:
        raise BadRequest("invalid_rule", f"sources: no source {foreign[0]}", field="sources")
    for destination_id in rule.destinations or []:
        try:
            await destinations.find(connection, workspace, destination_id)
        except NotFound:
            raise BadRequest(
                "invalid_rule",
                f"destinations: no destination {destination_id}",
                field="destinations",
            ) from None


async def list_rules(engine: AsyncEngine, *, workspace: str) -> list[RuleView]:
    """The workspace's rules, oldest first."""
    async with connected(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        return [rule_view(row) for row in await store.rule_rows(connection, workspace_id)]


async def get_rule(engine: AsyncEngine, *, workspace: str, rule_id: int) -> RuleView:
    async with connected(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        row = await store.get_rule(connection, workspace_id, rule_id)
    if row is None:
        raise _not_found(rule_id)
    return rule_view(row)


async def create_rule(engine: AsyncEngine, *, workspace: str, body: Any) -> RuleView:
    """Validate ``body`` (a rule; 400 ``invalid_rule`` naming the ``field``) and store it."""
    rule = _parse(body)
    async with transaction(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        await _check_scope(connection, workspace, workspace_id, rule)
        if rule.action == "hash":
            await store.ensure_salt(connection, workspace_id)
        row = await store.insert_rule(connection, workspace_id, rule, datetime.now(UTC))
    return rule_view(row)


async def update_rule(engine: AsyncEngine, *, workspace: str, rule_id: int, body: Any) -> RuleView:
    """Change the fields given in ``body`` (null clears a condition or a scope)."""
    if not isinstance(body, dict):
        raise BadRequest("invalid_rule", "the body is a JSON object", field=None)
    async with transaction(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        row = await store.get_rule(connection, workspace_id, rule_id)
        if row is None:
            raise _not_found(rule_id)
        current = {
            name: getattr(row, name)
            for name in ("name", "path", "key", "value", "detector", "action", "enabled")
        }
        current["sources"] = list(row.sources) if row.sources is not None else None
        current["destinations"] = list(row.destinations) if row.destinations is not None else None
        rule = _parse({**current, **body}, rule_id)
        await _check_scope(connection, workspace, workspace_id, rule)
        if rule.action == "hash":
            await store.ensure_salt(connection, workspace_id)
        updated = await store.update_rule(connection, workspace_id, rule, datetime.now(UTC))
    if updated is None:
        raise _not_found(rule_id)
    return rule_view(updated)


async def delete_rule(engine: AsyncEngine, *, workspace: str, rule_id: int) -> RuleDeletedView:
    async with transaction(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        if not await store.delete_rule(connection, workspace_id, rule_id):
            raise _not_found(rule_id)
    return {"id": rule_id, "deleted": True}


def _not_found(rule_id: int) -> NotFound:
    return NotFound("pii_rule_not_found", f"no PII rule {rule_id}")


class _TestInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    message: dict[str, Any]
    source_id: int | None = None
    destination_id: int | None = None


async def try_rules(engine: AsyncEngine, *, workspace: str, body: Any) -> TestView:
    """Run the workspace's enabled rules on ``body["message"]``: those at collection for
    ``source_id`` (rules for every source when it is left out), then, with ``destination_id``,
    that destination's. Nothing is stored."""
    try:
        given = msgspec.convert(body, _TestInput)
    except msgspec.ValidationError as error:
        raise BadRequest(
            "invalid_test", f"the body is {{message, source_id?, destination_id?}}: {error}"
        ) from None
    async with connected(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        if given.source_id is not None and await workspaces.foreign_sources(
            connection, workspace_id, [given.source_id]
        ):
            raise BadRequest("invalid_test", f"no source {given.source_id}", field="source_id")
        if given.destination_id is not None:
            try:
                await destinations.find(connection, workspace, given.destination_id)
            except NotFound:
                raise BadRequest(
                    "invalid_test", f"no destination {given.destination_id}", field="destination_id"
                ) from None
        rules = [store.rule_of(r) for r in await store.rule_rows(connection, workspace_id)]
        salt = (await store.salts(connection, [workspace_id])).get(workspace_id, b"")
    source = given.source_id if given.source_id is not None else -1
    stages: list[tuple[str, list[Rule]]] = [
        ("collection", [r for r in rules if r.at_collection(source)])
    ]
    if given.destination_id is not None:
        chosen = [r for r in rules if r.for_destination(source, given.destination_id)]
        stages.append(("destination", chosen))
    message: dict[str, Any] | None = given.message
    fields: list[AppliedView] = []
    blocked: str | None = None
    for stage, chosen in stages:
        assert message is not None
        outcome = apply(compile_rules(chosen), message, salt=salt)
        fields += [
            {"path": a.path, "action": a.action, "rule_id": a.rule_id, "stage": stage}
            for a in outcome.applied
        ]
        if outcome.blocked is not None:
            message, blocked = None, outcome.blocked
            break
        message = outcome.payload
    return {"message": message, "blocked": blocked, "fields": fields}


async def list_inbox(
    engine: AsyncEngine, *, workspace: str, observed: Sequence[ObservedPath]
) -> list[InboxItemView]:
    """The fields of ``observed`` (the workspace's observed schema, which the caller reads
    from tracking plans) that look personal and are not classified yet."""
    async with connected(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        rules = [store.rule_of(r) for r in await store.rule_rows(connection, workspace_id)]
        dismissed = await store.dismissed(connection, workspace_id)
    return [
        {
            "path": item.path,
            "key": key_of(item.path),
            "types": item.types,
            "count": item.count,
            "last_seen": item.last_seen,
            "source_ids": item.source_ids,
            "detected": item.detected,
        }
        for item in inbox(observed, rules=rules, dismissed=dismissed)
    ]


async def dismiss(engine: AsyncEngine, *, workspace: str, body: Any) -> DismissedView:
    """Mark ``body["path"]`` "not personal" (it leaves the inbox), or with
    ``"dismissed": false`` bring it back."""
    if not isinstance(body, dict) or not isinstance(body.get("path"), str) or not body["path"]:
        raise BadRequest("invalid_path", "the body is {path, dismissed?}", field="path")
    path: str = body["path"]
    again = body.get("dismissed", True)
    if not isinstance(again, bool):
        raise BadRequest("invalid_path", "dismissed is true or false", field="dismissed")
    if len(path) > 2000:
        raise BadRequest("invalid_path", "path: at most 2000 characters", field="path")
    async with transaction(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        if again:
            await store.dismiss(connection, workspace_id, path, datetime.now(UTC))
        else:
            await store.undismiss(connection, workspace_id, path)
    return {"path": path, "dismissed": again}


async def classify(engine: AsyncEngine, *, workspace: str, body: Any) -> RuleView:
    """Classify an inbox field: a rule on its exact path with ``body["action"]`` (and the
    rule's other fields, as for :func:`create_rule`)."""
    if not isinstance(body, dict) or not isinstance(body.get("path"), str):
        raise BadRequest("invalid_rule", "path: the field's path is required", field="path")
    return await create_rule(engine, workspace=workspace, body=body)
