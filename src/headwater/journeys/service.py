"""Journeys as the management API and the CLI handle them: drafts, publishing, states,
versions, and journeys as code. Each function owns its transaction and returns a read model.

A journey starts as a draft. Saving the draft needs the revision it was read at (409
``draft_changed`` if someone saved in between: nobody overwrites another's work unseen).
Publishing checks the draft (400 ``journey_not_publishable`` with every problem) and stores it
as a new immutable version, which the journey then runs; the draft stays editable. States:

=========  ==================================================================================
draft      never published; may be deleted
live       runs its newest version: profiles enter and move on
paused     nobody enters and nobody moves on; resume to carry on where each one was
archived   ended for good: read only
=========  ==================================================================================
"""

from __future__ import annotations

import json
import re
from typing import Any, Final, Literal

import yaml
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.audiences import decode_json
from headwater.errors import BadRequest, Conflict, NotFound
from headwater.journeys import instances, store
from headwater.journeys.graph import Journey, JourneyError, parse_journey, publish_problems
from headwater.journeys.nodes import NODE_TYPES
from headwater.journeys.runner import RUNNABLE
from headwater.journeys.views import (
    JourneyDetailView,
    JourneyFileView,
    JourneyVersionDetailView,
    JourneyVersionView,
    JourneyView,
    NodeTypeView,
    ProblemView,
)
from headwater.spec import format_timestamp
from headwater.storage import Transaction, connected, transaction

__all__ = [
    "EMPTY",
    "archive",
    "create_journey",
    "delete_journey",
    "export_journey",
    "get_journey",
    "get_version",
    "import_journey",
    "list_journeys",
    "list_versions",
    "node_types",
    "pause",
    "publish",
    "read_file",
    "resume",
    "save_draft",
    "update_journey",
]

KEY: Final = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
NAME_LIMIT: Final = 200
EMPTY: Final[dict[str, Any]] = {
    "version": 1,
    "trigger": {"type": "manual"},
    "start": "start",
    "nodes": {},
}
"""A new journey's draft when none is given: started by hand, with nothing in it yet."""

Format = Literal["json", "yaml"]


def node_types() -> list[NodeTypeView]:
    """The palette: every node type with its config's JSON Schema."""
    return [
        {
            "type": kind.key,
            "title": kind.title,
            "family": kind.family,
            "config_schema": kind.config_type.model_json_schema(),
        }
        for kind in NODE_TYPES.values()
    ]


def _journey(row: Row[Any]) -> JourneyView:
    return {
        "key": row.key,
        "name": row.name,
        "description": row.description,
        "state": row.state,
        "version": row.version,
        "revision": row.revision,
        "created_at": format_timestamp(row.created_at),
        "updated_at": format_timestamp(row.updated_at),
    }


def _detail(row: Row[Any]) -> JourneyDetailView:
    draft = decode_json(row.draft)
    try:
        problems: list[ProblemView] = [
            {"path": p["path"], "message": p["message"]}
            for p in publish_problems(parse_journey(draft))
        ]
    except JourneyError as error:  # stored drafts parse; this guards older rules
        problems = [{"path": p["path"], "message": p["message"]} for p in error.problems]
    published = None if row.published is None else decode_json(row.published)
    return {
        **_journey(row),
        "draft": draft,
        "problems": problems,
        "changed": published != draft,
    }


def _checked(document: Any) -> Any:
    """The draft, if its parts are well formed (400 ``invalid_journey`` with every problem)."""
    try:
        parse_journey(document)
    except JourneyError as error:
        raise BadRequest(
            "invalid_journey", f"invalid journey: {error}", problems=error.problems
        ) from None
    return document


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_LIMIT:
        raise BadRequest("invalid_name", f"a journey's name has 1 to {NAME_LIMIT} characters")
    return name


async def _row(tx: Transaction, workspace: str, key: str, *, for_update: bool = False) -> Any:
    space = await workspaces.workspace_id(tx, workspace)
    row = await store.journey(tx, space, key, for_update=for_update)
    if row is None:
        raise NotFound("journey_not_found", f"no journey {key!r}")
    return row


def _not_archived(row: Row[Any]) -> None:
    if row.state == "archived":
        raise Conflict("journey_archived", f"journey {row.key!r} is archived: it is read only")


async def list_journeys(engine: AsyncEngine, *, workspace: str) -> list[JourneyView]:
    async with connected(engine) as tx:
        rows = await store.journeys(tx, await workspaces.workspace_id(tx, workspace))
    return [_journey(row) for row in rows]


async def get_journey(engine: AsyncEngine, *, workspace: str, key: str) -> JourneyDetailView:
    async with connected(engine) as tx:
        return _detail(await _row(tx, workspace, key))


async def create_journey(
    engine: AsyncEngine,
    *,
    workspace: str,
    key: str,
    name: str,
    description: str = "",
    document: Any = None,
) -> JourneyDetailView:
    """A new draft (409 ``journey_exists`` when the key is taken)."""
    draft = _checked(EMPTY if document is None else document)
    async with transaction(engine) as tx:
        await _insert(tx, workspace, key=key, name=name, description=description, draft=draft)
        return _detail(await _row(tx, workspace, key))


async def _insert(
    tx: Transaction, workspace: str, *, key: str, name: str, description: str, draft: Any
) -> None:
    if not KEY.match(key):
        raise BadRequest(
            "invalid_key", "a journey's key is lower case letters, digits, '_' and '-'"
        )
    space = await workspaces.workspace_id(tx, workspace)
    created = await store.insert_journey(
        tx, space, key=key, name=_name(name), description=description, draft=draft
    )
    if not created:
        raise Conflict("journey_exists", f"there is already a journey {key!r}")


async def save_draft(
    engine: AsyncEngine, *, workspace: str, key: str, document: Any, revision: int
) -> JourneyDetailView:
    """Store a new draft over revision ``revision`` (409 ``draft_changed`` if it is not the
    latest any more)."""
    draft = _checked(document)
    async with transaction(engine) as tx:
        row = await _row(tx, workspace, key, for_update=True)
        _not_archived(row)
        if not await store.save_draft(tx, row.id, draft, revision=revision):
            raise Conflict(
                "draft_changed",
                f"the draft was saved by someone else since revision {revision}"
                f" (it is at {row.revision}): reload it, then make your change again",
                revision=row.revision,
            )
        return _detail(await _row(tx, workspace, key))


async def update_journey(
    engine: AsyncEngine,
    *,
    workspace: str,
    key: str,
    name: str | None = None,
    description: str | None = None,
) -> JourneyDetailView:
    async with transaction(engine) as tx:
        row = await _row(tx, workspace, key, for_update=True)
        _not_archived(row)
        await store.rename(
            tx,
            row.id,
            name=row.name if name is None else _name(name),
            description=row.description if description is None else description,
        )
        return _detail(await _row(tx, workspace, key))


async def publish(
    engine: AsyncEngine, *, workspace: str, key: str, note: str = ""
) -> JourneyDetailView:
    """The draft as a new version, run from now on (a draft becomes live; a paused journey
    stays paused). Nothing new when the draft is the version already running."""
    async with transaction(engine) as tx:
        row = await _row(tx, workspace, key, for_update=True)
        _not_archived(row)
        draft = decode_json(row.draft)
        journey = parse_journey(draft)
        problems = publish_problems(journey) + _not_runnable(journey)
        if problems:
            raise BadRequest(
                "journey_not_publishable",
                f"the draft cannot be published: {problems[0]['path']}: "
                f"{problems[0]['message']}"
                + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                problems=problems,
            )
        if row.published is not None and decode_json(row.published) == draft:
            return _detail(row)
        number = (row.version or 0) + 1
        await store.insert_version(
            tx,
            row.id,
            number=number,
            document=draft,
            note=note,
            state="paused" if row.state == "paused" else "live",
        )
        if row.published is not None:
            old = parse_journey(decode_json(row.published))
            await instances.move_to_version(tx, row.id, old, journey, number)
        return _detail(await _row(tx, workspace, key))


def _not_runnable(journey: Journey) -> list[dict[str, str]]:
    """The parts of a journey this version of Headwater does not run yet."""
    problems = [
        {
            "path": f"nodes.{node_id}.type",
            "message": f"{node.type} nodes do not run yet in this version of Headwater",
        }
        for node_id, node in journey.document.nodes.items()
        if node.type not in RUNNABLE
    ]
    trigger = journey.document.trigger.type
    if trigger not in ("event", "manual", "audience_entered", "audience_exited", "schedule"):
        message = f"{trigger} triggers do not run yet in this version of Headwater"
        problems.append({"path": "trigger.type", "message": message})
    return problems


async def _move(
    engine: AsyncEngine, workspace: str, key: str, *, to: str, allowed: set[str]
) -> JourneyDetailView:
    async with transaction(engine) as tx:
        row = await _row(tx, workspace, key, for_update=True)
        if row.state not in allowed:
            raise Conflict(
                "invalid_state",
                f"journey {key!r} is {row.state}: it cannot be made {to}",
                state=row.state,
            )
        await store.set_state(tx, row.id, to)
        if to == "archived":
            await instances.end_journey(tx, row.id, "archived")
        return _detail(await _row(tx, workspace, key))


async def pause(engine: AsyncEngine, *, workspace: str, key: str) -> JourneyDetailView:
    """Nobody enters and nobody moves on until it is resumed; waits keep their times."""
    return await _move(engine, workspace, key, to="paused", allowed={"live"})


async def resume(engine: AsyncEngine, *, workspace: str, key: str) -> JourneyDetailView:
    return await _move(engine, workspace, key, to="live", allowed={"paused"})


async def archive(engine: AsyncEngine, *, workspace: str, key: str) -> JourneyDetailView:
    """Ended for good: every profile in it leaves (``exited``, reason ``archived``), and it
    is read only from now on."""
    return await _move(engine, workspace, key, to="archived", allowed={"draft", "live", "paused"})


async def delete_journey(engine: AsyncEngine, *, workspace: str, key: str) -> None:
    """Only a journey never published (409 ``journey_published``: archive it instead, its
    history is kept)."""
    async with transaction(engine) as tx:
        row = await _row(tx, workspace, key, for_update=True)
        if row.version is not None:
            raise Conflict(
                "journey_published",
                f"journey {key!r} has run: archive it instead (its history is kept)",
            )
        await store.delete_journey(tx, row.id)


async def list_versions(
    engine: AsyncEngine, *, workspace: str, key: str
) -> list[JourneyVersionView]:
    async with connected(engine) as tx:
        row = await _row(tx, workspace, key)
        found = await store.versions(tx, row.id)
    return [
        {"version": v.version, "note": v.note, "published_at": format_timestamp(v.published_at)}
        for v in found
    ]


async def get_version(
    engine: AsyncEngine, *, workspace: str, key: str, version: int
) -> JourneyVersionDetailView:
    async with connected(engine) as tx:
        row = await _row(tx, workspace, key)
        found = await store.version(tx, row.id, version)
    if found is None:
        raise NotFound("version_not_found", f"journey {key!r} has no version {version}")
    return {
        "version": found.version,
        "note": found.note,
        "published_at": format_timestamp(found.published_at),
        "document": decode_json(found.document),
    }


async def export_journey(
    engine: AsyncEngine,
    *,
    workspace: str,
    key: str,
    version: int | None = None,
    format: Format = "json",
) -> str:
    """The journey as a file (its draft, or ``version``), for import elsewhere."""
    async with connected(engine) as tx:
        row = await _row(tx, workspace, key)
        if version is None:
            document = decode_json(row.draft)
        else:
            found = await store.version(tx, row.id, version)
            if found is None:
                raise NotFound("version_not_found", f"journey {key!r} has no version {version}")
            document = decode_json(found.document)
    file: JourneyFileView = {
        "key": row.key,
        "name": row.name,
        "description": row.description,
        "document": document,
    }
    plain = json.loads(json.dumps(file, default=_number))
    if format == "yaml":
        return str(yaml.safe_dump(plain, sort_keys=False, allow_unicode=True))
    return json.dumps(plain, indent=2, ensure_ascii=False) + "\n"


def _number(value: Any) -> Any:
    """Exact decimals as JSON numbers in files (a ``Decimal`` that is whole as an int)."""
    return int(value) if value == value.to_integral_value() else float(value)


def read_file(text: str, format: Format) -> JourneyFileView:
    """A journey file's text (400 ``invalid_journey`` when it is not one)."""
    try:
        raw = yaml.safe_load(text) if format == "yaml" else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as error:
        raise BadRequest("invalid_journey", f"the file is not {format.upper()}: {error}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("document"), dict):
        raise BadRequest(
            "invalid_journey", "a journey file has key, name, description and document"
        )
    # through JSON text again, so that numbers are exact decimals as in every other document
    decoded = decode_json(json.dumps(raw, default=str))
    return {
        "key": str(decoded.get("key") or ""),
        "name": str(decoded.get("name") or ""),
        "description": str(decoded.get("description") or ""),
        "document": decoded["document"],
    }


async def import_journey(
    engine: AsyncEngine, *, workspace: str, file: JourneyFileView
) -> JourneyDetailView:
    """A new journey from the file, or the file's document as the draft of the journey with
    its key (the file wins: journeys as code). Publishing stays a separate step."""
    draft = _checked(file["document"])
    key = file["key"]
    async with transaction(engine) as tx:
        space = await workspaces.workspace_id(tx, workspace)
        row = await store.journey(tx, space, key, for_update=True)
        if row is None:
            name = file["name"] or key
            await _insert(
                tx, workspace, key=key, name=name, description=file["description"], draft=draft
            )
        else:
            _not_archived(row)
            name = _name(file["name"]) if file["name"] else row.name
            await store.rename(tx, row.id, name=name, description=file["description"])
            await store.save_draft(tx, row.id, draft, revision=row.revision)
        return _detail(await _row(tx, workspace, key))
