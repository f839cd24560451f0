"""A workspace's identity rules: read and replaced through the management API and the CLI.

Rules live in the ``identity_rules`` table, one row per workspace; a workspace without a row
uses :meth:`Rules.default() <headwater.identity.Rules.default>`. The processor caches each
workspace's rules for 5 seconds, so a change applies to events processed within 5 s of it
(events already resolved keep their profiles).

>>> await set_rules(engine, workspace="default", rules={"limits": {"email": {"max": 1}}})
{'blocked': [...], 'limits': {'email': {'max': 1, 'window': None}}, ...}
>>> (await get_rules(engine, workspace="default"))["limits"]["email"]
{'max': 1, 'window': None}
"""

from __future__ import annotations

from typing import Any, cast

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.errors import BadRequest
from headwater.identity import Rules
from headwater.profiles.views import IdentityRulesView
from headwater.storage import connected, transaction

__all__ = ["get_rules", "set_rules"]


async def get_rules(engine: AsyncEngine, *, workspace: str) -> IdentityRulesView:
    """The workspace's stored rules as a dict, or the defaults when none are stored."""
    async with connected(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        stored = await connection.scalar(
            text("SELECT rules FROM identity_rules WHERE workspace_id = :w"), {"w": workspace_id}
        )
    rules = Rules.from_dict(stored) if stored else Rules.default()
    return cast(IdentityRulesView, rules.to_dict())


async def set_rules(engine: AsyncEngine, *, workspace: str, rules: Any) -> IdentityRulesView:
    """Validate ``rules`` and store them; return them in full. Raises :class:`BadRequest`
    (``invalid_rules``) with the reason on invalid rules.

    Missing fields take their defaults. ``limits`` and ``priorities`` are laid over the default
    ones, type by type: ``{"limits": {"email": {"max": 1}}}`` keeps ``user_id`` at 1 (replacing
    the whole dict would give it ``default_limit``, 5, and merge users sharing a device)."""
    try:
        parsed = Rules.from_dict(_over_defaults(rules))
    except ValueError as error:
        raise BadRequest("invalid_rules", str(error)) from None
    document = parsed.to_dict()
    async with transaction(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        await connection.execute(
            text(
                "INSERT INTO identity_rules (workspace_id, rules, updated_at)"
                " VALUES (:w, CAST(:rules AS jsonb), now())"
                " ON CONFLICT (workspace_id) DO UPDATE"
                " SET rules = EXCLUDED.rules, updated_at = EXCLUDED.updated_at"
            ),
            {"w": workspace_id, "rules": msgspec.json.encode(document).decode()},
        )
    return cast(IdentityRulesView, document)


def _over_defaults(rules: Any) -> Any:
    if not isinstance(rules, dict):
        return rules  # from_dict explains what is wrong
    defaults = Rules.default().to_dict()
    merged = dict(rules)
    for field in ("limits", "priorities"):
        if isinstance(rules.get(field), dict):
            merged[field] = {**defaults[field], **rules[field]}
    return merged
