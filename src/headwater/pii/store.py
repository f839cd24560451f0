"""PII rules' SQL (SQLAlchemy Core text; never commits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, text

from headwater import workspaces
from headwater.pii.rules import Rule
from headwater.storage import Transaction

__all__ = [
    "all_rules",
    "delete_rule",
    "dismiss",
    "dismissed",
    "ensure_salt",
    "get_rule",
    "insert_rule",
    "rule_rows",
    "salts",
    "undismiss",
    "update_rule",
]

_COLUMNS = (
    "id, workspace_id, name, path, key, value, detector, action, sources, destinations,"
    " enabled, created_at, updated_at"
)


def rule_of(row: Row[Any]) -> Rule:
    return Rule(
        id=row.id,
        name=row.name,
        path=row.path,
        key=row.key,
        value=row.value,
        detector=row.detector,
        action=row.action,
        sources=list(row.sources) if row.sources is not None else None,
        destinations=list(row.destinations) if row.destinations is not None else None,
        enabled=row.enabled,
    )


async def rule_rows(connection: Transaction, workspace_id: int) -> list[Row[Any]]:
    """The workspace's rules, in id order."""
    rows = await connection.execute(
        text(f"SELECT {_COLUMNS} FROM pii_rules WHERE workspace_id = :w ORDER BY id"),
        {"w": workspace_id},
    )
    return list(rows)


async def get_rule(connection: Transaction, workspace_id: int, rule_id: int) -> Row[Any] | None:
    if not -(2**63) <= rule_id < 2**63:
        return None
    rows = await connection.execute(
        text(f"SELECT {_COLUMNS} FROM pii_rules WHERE workspace_id = :w AND id = :id"),
        {"w": workspace_id, "id": rule_id},
    )
    return rows.first()


def _values(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "path": rule.path,
        "key": rule.key,
        "value": rule.value,
        "detector": rule.detector,
        "action": rule.action,
        "sources": rule.sources,
        "destinations": rule.destinations,
        "enabled": rule.enabled,
    }


async def insert_rule(
    connection: Transaction, workspace_id: int, rule: Rule, now: datetime
) -> Row[Any]:
    rows = await connection.execute(
        text(
            "INSERT INTO pii_rules (workspace_id, name, path, key, value, detector, action,"
            " sources, destinations, enabled, created_at, updated_at)"
            " VALUES (:w, :name, :path, :key, :value, :detector, :action, :sources,"
            f" :destinations, :enabled, :now, :now) RETURNING {_COLUMNS}"
        ),
        {"w": workspace_id, "now": now, **_values(rule)},
    )
    return rows.one()


async def update_rule(
    connection: Transaction, workspace_id: int, rule: Rule, now: datetime
) -> Row[Any] | None:
    rows = await connection.execute(
        text(
            "UPDATE pii_rules SET name = :name, path = :path, key = :key, value = :value,"
            " detector = :detector, action = :action, sources = :sources,"
            " destinations = :destinations, enabled = :enabled, updated_at = :now"
            f" WHERE workspace_id = :w AND id = :id RETURNING {_COLUMNS}"
        ),
        {"w": workspace_id, "id": rule.id, "now": now, **_values(rule)},
    )
    return rows.first()


async def delete_rule(connection: Transaction, workspace_id: int, rule_id: int) -> bool:
    if not -(2**63) <= rule_id < 2**63:
        return False
    rows = await connection.execute(
        text("DELETE FROM pii_rules WHERE workspace_id = :w AND id = :id RETURNING id"),
        {"w": workspace_id, "id": rule_id},
    )
    return rows.first() is not None


async def all_rules(connection: Transaction) -> dict[int, list[Rule]]:
    """Every enabled rule of every workspace, by workspace (the caches' one read)."""
    rows = await connection.execute(
        text(f"SELECT {_COLUMNS} FROM pii_rules WHERE enabled ORDER BY workspace_id, id")
    )
    found: dict[int, list[Rule]] = {}
    for row in rows:
        found.setdefault(row.workspace_id, []).append(rule_of(row))
    return found


async def ensure_salt(connection: Transaction, workspace_id: int) -> None:
    """Make sure the workspace has its salt: its one secret (``workspaces``' key, from which
    the salt is derived) is created unless it exists."""
    await workspaces.pii_salt(connection, workspace_id)


async def salts(connection: Transaction, workspace_ids: list[int]) -> dict[int, bytes]:
    """The hashing salt of each of these workspaces that has one (``workspaces.pii_salts``)."""
    return await workspaces.pii_salts(connection, workspace_ids)


async def dismissed(connection: Transaction, workspace_id: int) -> set[str]:
    """The paths marked "not personal" in the workspace."""
    rows = await connection.execute(
        text("SELECT path FROM pii_dismissed WHERE workspace_id = :w"), {"w": workspace_id}
    )
    return {row.path for row in rows}


async def dismiss(connection: Transaction, workspace_id: int, path: str, now: datetime) -> None:
    await connection.execute(
        text(
            "INSERT INTO pii_dismissed (workspace_id, path, dismissed_at) VALUES (:w, :path, :now)"
            " ON CONFLICT (workspace_id, md5(path)) DO NOTHING"
        ),
        {"w": workspace_id, "path": path, "now": now},
    )


async def undismiss(connection: Transaction, workspace_id: int, path: str) -> bool:
    rows = await connection.execute(
        text(
            "DELETE FROM pii_dismissed WHERE workspace_id = :w AND md5(path) = md5(:path)"
            " AND path = :path RETURNING id"
        ),
        {"w": workspace_id, "path": path},
    )
    return rows.first() is not None
