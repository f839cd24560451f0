"""Journey storage: queries inside the caller's transaction; nothing here commits.

Documents are written as JSON text cast to ``jsonb`` and read back as text (``draft::text``),
decoded by the service with exact decimals (condition values mean what they mean to
audiences)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, text

from headwater.audiences import encode_json
from headwater.storage import Transaction

__all__ = [
    "delete_journey",
    "insert_journey",
    "insert_version",
    "journey",
    "journey_workspaces",
    "journeys",
    "rename",
    "save_draft",
    "set_state",
    "version",
    "versions",
]

_JOURNEY = (
    "SELECT id, key, name, description, state, draft::text AS draft, revision, version,"
    " created_at, updated_at,"
    " (SELECT v.document::text FROM journey_versions v"
    "  WHERE v.journey_id = j.id AND v.version = j.version) AS published"
    " FROM journeys j"
)


async def journeys(tx: Transaction, workspace: int) -> Sequence[Row[Any]]:
    result = await tx.execute(
        text(f"{_JOURNEY} WHERE j.workspace_id = :w ORDER BY j.name, j.key"), {"w": workspace}
    )
    return result.all()


async def journey(
    tx: Transaction, workspace: int, key: str, *, for_update: bool = False
) -> Row[Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    result = await tx.execute(
        text(f"{_JOURNEY} WHERE j.workspace_id = :w AND j.key = :key{lock}"),
        {"w": workspace, "key": key},
    )
    return result.first()


async def insert_journey(
    tx: Transaction, workspace: int, *, key: str, name: str, description: str, draft: Any
) -> bool:
    """A new draft journey; False when the key is taken."""
    found = await tx.scalar(
        text(
            "INSERT INTO journeys (workspace_id, key, name, description, draft)"
            " VALUES (:w, :key, :name, :description, CAST(:draft AS jsonb))"
            " ON CONFLICT (workspace_id, key) DO NOTHING RETURNING id"
        ),
        {
            "w": workspace,
            "key": key,
            "name": name,
            "description": description,
            "draft": encode_json(draft),
        },
    )
    return found is not None


async def save_draft(tx: Transaction, journey_id: int, draft: Any, *, revision: int) -> int:
    """Store ``draft`` if the journey's revision is still ``revision``: the new revision, or 0
    when someone saved in between."""
    found = await tx.scalar(
        text(
            "UPDATE journeys SET draft = CAST(:draft AS jsonb), revision = revision + 1,"
            " updated_at = now() WHERE id = :id AND revision = :revision RETURNING revision"
        ),
        {"id": journey_id, "draft": encode_json(draft), "revision": revision},
    )
    return 0 if found is None else int(found)


async def rename(tx: Transaction, journey_id: int, *, name: str, description: str) -> None:
    await tx.execute(
        text(
            "UPDATE journeys SET name = :name, description = :description, updated_at = now()"
            " WHERE id = :id"
        ),
        {"id": journey_id, "name": name, "description": description},
    )


async def set_state(tx: Transaction, journey_id: int, state: str) -> None:
    await tx.execute(
        text("UPDATE journeys SET state = :state, updated_at = now() WHERE id = :id"),
        {"id": journey_id, "state": state},
    )


async def insert_version(
    tx: Transaction, journey_id: int, *, number: int, document: Any, note: str, state: str
) -> None:
    """Store ``document`` as version ``number`` and make it the one the journey runs."""
    await tx.execute(
        text(
            "INSERT INTO journey_versions (journey_id, version, document, note)"
            " VALUES (:id, :number, CAST(:document AS jsonb), :note)"
        ),
        {"id": journey_id, "number": number, "document": encode_json(document), "note": note},
    )
    await tx.execute(
        text(
            "UPDATE journeys SET version = :number, state = :state, updated_at = now()"
            " WHERE id = :id"
        ),
        {"id": journey_id, "number": number, "state": state},
    )


async def versions(tx: Transaction, journey_id: int) -> Sequence[Row[Any]]:
    result = await tx.execute(
        text(
            "SELECT version, note, published_at FROM journey_versions"
            " WHERE journey_id = :id ORDER BY version DESC"
        ),
        {"id": journey_id},
    )
    return result.all()


async def version(tx: Transaction, journey_id: int, number: int) -> Row[Any] | None:
    result = await tx.execute(
        text(
            "SELECT version, note, published_at, document::text AS document"
            " FROM journey_versions WHERE journey_id = :id AND version = :number"
        ),
        {"id": journey_id, "number": number},
    )
    return result.first()


async def delete_journey(tx: Transaction, journey_id: int) -> None:
    await tx.execute(text("DELETE FROM journeys WHERE id = :id"), {"id": journey_id})


async def journey_workspaces(tx: Transaction) -> dict[int, int]:
    """The workspace of every journey, by journey id (retention decides a day of journey
    history by the workspaces of the journeys in it)."""
    rows = await tx.execute(text("SELECT id, workspace_id FROM journeys"))
    return {row.id: row.workspace_id for row in rows}
