"""Destination instances: create, read, update, enable, delete, test; each function owns its
transaction. Secrets are sealed before they are stored and masked in everything returned.

>>> await create_destination(engine, settings, workspace="default", name="Orders hook",
...                          kind="webhook", config={"url": "https://example.com/hook"})
{"id": 1, "name": "Orders hook", "kind": "webhook", "config": {"url": ..., "secret": null}, ...}
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pydantic
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import __version__, workspaces
from headwater.connectors import Connector, load_all, lookup, registered
from headwater.destinations import store
from headwater.destinations.model import DeliveryOptions, Destination, FilterList
from headwater.destinations.redact import Redactor, mask_url
from headwater.destinations.secrets import SecretBox, load_box, masked, secret_fields
from headwater.destinations.views import (
    DeliveryView,
    DestinationView,
    KindView,
    TestSendView,
)
from headwater.errors import BadRequest, Conflict, NotFound
from headwater.settings import Settings
from headwater.spec import InvalidMessage, format_timestamp, message_of
from headwater.storage import Transaction, connected, transaction
from headwater.workspaces import check_name

__all__ = [
    "connector_config",
    "create_destination",
    "destination_workspaces",
    "destinations_of",
    "enabled_destinations",
    "find",
    "get_destination",
    "kinds",
    "list_destinations",
    "remove",
    "send_test",
    "shown_config",
    "update_destination",
    "view",
    "workspace_destination_ids",
]

SAMPLE_EVENT: dict[str, Any] = {
    "type": "track",
    "event": "Headwater Test Event",
    "userId": "test-user",
    "anonymousId": "test-anonymous-id",
    "messageId": "headwater-test-event",
    "properties": {"test": True},
    "context": {"library": {"name": "headwater", "version": __version__}},
    "timestamp": "2024-01-01T00:00:00.000Z",
    "receivedAt": "2024-01-01T00:00:00.000Z",
    "sentAt": "2024-01-01T00:00:00.000Z",
}


def kinds() -> list[KindView]:
    """Every connector: its kind and title, batch size, default consent categories, whether it
    forwards deletions, and config schema."""
    return [
        {
            "kind": kind,
            "title": connector.title,
            "max_batch": connector.max_batch,
            "categories": list(connector.categories),
            "deletes": connector.deletes,
            "config_schema": connector.config_type.model_json_schema(),
            "secret_fields": sorted(secret_fields(connector.config_type)),
        }
        for kind, connector in load_all().items()
    ]


def shown_config(config: dict[str, Any]) -> dict[str, Any]:
    """A stored config as the API shows it: secret fields as ``{"set": true}``, URLs with their
    user info and query values masked (:func:`~.redact.mask_url`)."""
    return {
        name: mask_url(value) if isinstance(value, str) else value
        for name, value in masked(config).items()
    }


def _delivery_view(options: DeliveryOptions) -> DeliveryView:
    return {
        "batch_size": options.batch_size,
        "concurrency": options.concurrency,
        "rate_limit": options.rate_limit,
        "ordered": options.ordered,
        "retry_window_seconds": options.retry_window_seconds,
        "timeout_seconds": options.timeout_seconds,
        "alert_below": options.alert_below,
        "alert_window_minutes": options.alert_window_minutes,
    }


def view(destination: Destination, workspace: str) -> DestinationView:
    """A destination as the API shows it: secrets as ``{"set": true}``, URLs masked."""
    return {
        "id": destination.id,
        "workspace": workspace,
        "name": destination.name,
        "kind": destination.kind,
        "config": shown_config(destination.config),
        "sources": destination.sources,
        "filters": destination.filters,
        "categories": destination.categories,
        "delivery": _delivery_view(destination.delivery_options()),
        "enabled": destination.enabled,
        "created_at": format_timestamp(destination.created_at),
        "updated_at": format_timestamp(destination.updated_at),
    }


def _invalid(code: str, what: str, error: pydantic.ValidationError) -> BadRequest:
    details = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
        for e in error.errors(include_url=False, include_context=False, include_input=False)
    ]
    return BadRequest(code, f"invalid {what}", errors=details)


def _connector(kind: str) -> type[Connector[Any]]:
    found = lookup(kind)
    if found is None:
        raise BadRequest("unknown_kind", f"no connector {kind!r}", kinds=list(registered()))
    return found


def _plain(config: pydantic.BaseModel) -> dict[str, Any]:
    """A validated config as JSON values, secrets in clear (to be sealed)."""
    dumped: dict[str, Any] = config.model_dump(mode="json")
    for name in secret_fields(type(config)):
        value = getattr(config, name)
        if isinstance(value, pydantic.SecretStr):
            dumped[name] = value.get_secret_value()
        elif isinstance(value, dict):
            dumped[name] = {k: v.get_secret_value() for k, v in value.items()}
    return dumped


def _validated_config(connector: type[Connector[Any]], raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BadRequest("invalid_config", "config is a JSON object")
    try:
        return _plain(connector.config_type.model_validate(raw))
    except pydantic.ValidationError as error:
        raise _invalid("invalid_config", "config", error) from None


def connector_config(
    box: SecretBox, connector: type[Connector[Any]], destination: Destination
) -> pydantic.BaseModel:
    """The destination's typed config, secrets decrypted; 409 (naming the fields, never their
    values) when the stored config no longer validates."""
    try:
        return connector.config_type.model_validate(box.open(destination.config))
    except pydantic.ValidationError as error:
        invalid = _invalid("invalid_config", "stored config: update it", error)
        raise Conflict(invalid.code, invalid.message, **invalid.details) from None


def _checked(
    filters: Any = None, delivery: Any = None, categories: Any = None, sources: Any = None
) -> dict[str, Any]:
    """Validate the non-config fields given; return them as columns."""
    columns: dict[str, Any] = {}
    try:
        if filters is not None:
            parsed = FilterList.validate_python(filters)
            columns["filters"] = FilterList.dump_python(parsed, mode="json", by_alias=True)
        if delivery is not None:
            columns["delivery"] = DeliveryOptions.model_validate(delivery).model_dump(
                exclude_unset=True
            )
    except pydantic.ValidationError as error:
        raise _invalid("invalid_destination", "filters or delivery options", error) from None
    if categories is not None:
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            raise BadRequest("invalid_categories", "categories is a list of strings")
        columns["categories"] = categories
    if sources is not None:
        if not isinstance(sources, list) or not all(type(s) is int for s in sources):
            raise BadRequest("invalid_sources", "sources is a list of source ids")
        columns["sources"] = sources
    return columns


async def find(connection: Transaction, workspace: str, destination_id: int) -> Destination:
    """The workspace's destination, or 404."""
    found = await store.get_destination(connection, destination_id)
    workspace_id = await workspaces.find_workspace_id(connection, workspace)
    if found is None or found.workspace_id != workspace_id:
        raise NotFound("destination_not_found", f"no destination {destination_id} in {workspace!r}")
    return found


async def workspace_destination_ids(connection: Transaction, workspace_id: int) -> list[int]:
    """The ids of every destination of ``workspace_id``, enabled or not (what privacy erases a
    person's deliveries from, and whose logs retention reaches)."""
    return [found.id for found in await store.destinations(connection, workspace_id=workspace_id)]


async def destination_workspaces(connection: Transaction) -> dict[int, int]:
    """The workspace of every destination, by destination id (retention decides a day of
    delivery logs by the workspaces of the destinations in it)."""
    return {found.id: found.workspace_id for found in await store.destinations(connection)}


async def enabled_destinations(connection: Transaction) -> list[Destination]:
    """Every enabled destination of every workspace, read in the caller's transaction (the
    routing stage and the delivery workers refresh from it)."""
    return await store.destinations(connection, enabled=True)


async def routing_version(connection: Transaction) -> int:
    """A number that changes, in the changing transaction, whenever a destination or a PII rule
    does: the routing stage reloads what it read by :func:`enabled_destinations` (and the PII
    rules) when it moved."""
    return await store.routing_version(connection)


async def destinations_of(connection: Transaction, *, workspace_id: int) -> list[Destination]:
    """Every destination of one workspace, enabled or not, by id, read in the caller's
    transaction (secrets still sealed: :func:`connector_config` opens them)."""
    return await store.destinations(connection, workspace_id=workspace_id)


async def _own_sources(
    connection: Transaction, workspace: str, workspace_id: int, sources: list[int] | None
) -> None:
    """404, as for an unknown source, unless every source is the workspace's own."""
    foreign = await workspaces.foreign_sources(connection, workspace_id, sources or [])
    if foreign:
        raise NotFound("source_not_found", f"no source {foreign[0]} in {workspace!r}")


async def create_destination(
    engine: AsyncEngine,
    settings: Settings,
    *,
    workspace: str,
    name: str,
    kind: str,
    config: Any,
    sources: list[int] | None = None,
    filters: list[Any] | None = None,
    categories: list[str] | None = None,
    delivery: dict[str, Any] | None = None,
    enabled: bool = True,
) -> DestinationView:
    """Create a destination; answer its view. 400 for a bad name, kind, config or filter;
    404 for a source that is not the workspace's."""
    check_name(name, what="a destination")
    connector = _connector(kind)
    plain = _validated_config(connector, config)
    columns = _checked(filters if filters is not None else [], delivery or {}, categories, sources)
    try:
        async with transaction(engine) as connection:
            workspace_id = await workspaces.workspace_id(connection, workspace)
            await _own_sources(connection, workspace, workspace_id, columns.get("sources"))
            box = await load_box(connection, settings.secret_key)
            destination_id = await store.insert_destination(
                connection,
                workspace_id=workspace_id,
                name=name,
                kind=kind,
                config=box.seal(plain, secret_fields(connector.config_type)),
                enabled=enabled,
                **columns,
            )
            created = await store.get_destination(connection, destination_id)
    except IntegrityError:
        raise Conflict("destination_exists", f"{workspace!r} has a destination {name!r}") from None
    assert created is not None
    return view(created, workspace)


async def update_destination(
    engine: AsyncEngine,
    settings: Settings,
    *,
    workspace: str,
    destination_id: int,
    changes: dict[str, Any],
) -> DestinationView:
    """Apply ``changes`` (name, config, sources, filters, categories, delivery, enabled).

    ``config`` is merged into the stored one key by key: a secret left out (or sent back as
    ``{"set": true}``) keeps its stored value; ``null`` clears an optional field.
    ``sources`` and ``categories`` may be ``null`` (all sources; the connector's categories).
    """
    unknown = set(changes) - {
        "name",
        "config",
        "sources",
        "filters",
        "categories",
        "delivery",
        "enabled",
    }
    if unknown:
        raise BadRequest("invalid_change", f"unknown fields: {', '.join(sorted(unknown))}")
    try:
        async with transaction(engine) as connection:
            current = await find(connection, workspace, destination_id)
            columns = _checked(
                changes.get("filters"),
                changes.get("delivery"),
                changes.get("categories"),
                changes.get("sources"),
            )
            for name in ("sources", "categories"):
                if name in changes and changes[name] is None:
                    columns[name] = None
            await _own_sources(connection, workspace, current.workspace_id, columns.get("sources"))
            if "name" in changes:
                if not isinstance(changes["name"], str):
                    raise BadRequest("invalid_name", "a destination needs a name")
                columns["name"] = check_name(changes["name"], what="a destination")
            if "enabled" in changes:
                columns["enabled"] = bool(changes["enabled"])
            if "config" in changes:
                columns["config"] = await _merged_config(
                    connection, settings, current, changes["config"]
                )
            await store.update_destination(connection, destination_id, **columns)
            updated = await store.get_destination(connection, destination_id)
    except IntegrityError:
        raise Conflict(
            "destination_exists", f"{workspace!r} has a destination with that name"
        ) from None
    assert updated is not None
    return view(updated, workspace)


async def _merged_config(
    connection: Transaction, settings: Settings, current: Destination, patch: Any
) -> dict[str, Any]:
    if not isinstance(patch, dict):
        raise BadRequest("invalid_config", "config is a JSON object")
    connector = _connector(current.kind)
    secrets = secret_fields(connector.config_type)
    box = await load_box(connection, settings.secret_key)
    merged = box.open(current.config)
    for key, value in patch.items():
        if key in secrets and value == {"set": True}:
            continue
        if isinstance(value, str) and value == shown_config(merged).get(key):
            continue  # a URL sent back as shown, its secret parts masked: keep them
        merged[key] = value
    return box.seal(_validated_config(connector, merged), secrets)


async def list_destinations(engine: AsyncEngine, *, workspace: str) -> list[DestinationView]:
    async with connected(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        found = await store.destinations(connection, workspace_id=workspace_id)
    return [view(d, workspace) for d in found]


async def get_destination(
    engine: AsyncEngine, *, workspace: str, destination_id: int
) -> DestinationView:
    async with connected(engine) as connection:
        return view(await find(connection, workspace, destination_id), workspace)


async def remove(connection: Transaction, *, workspace: str, destination_id: int) -> None:
    """Delete a disabled destination (409 while enabled) in the caller's transaction; the
    delivery engine's ``delete_destination`` removes its queue with it."""
    current = await find(connection, workspace, destination_id)
    if current.enabled:
        raise Conflict("destination_enabled", "disable the destination before deleting it")
    await store.delete_destination(connection, destination_id)


async def send_test(
    engine: AsyncEngine,
    settings: Settings,
    *,
    workspace: str,
    destination_id: int,
    event: dict[str, Any] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TestSendView:
    """Send one event (a sample unless given) now, outside the queue; answer the outcome with
    the request and response. Nothing is retried or counted."""
    try:
        message = message_of(event or SAMPLE_EVENT)
    except InvalidMessage as error:
        raise BadRequest(
            "invalid_event", f"the test event is not a Segment message: {error}"
        ) from None
    async with transaction(engine) as connection:
        destination = await find(connection, workspace, destination_id)
        box = await load_box(connection, settings.secret_key)
    connector_type = _connector(destination.kind)
    config = connector_config(box, connector_type, destination)
    timeout = destination.delivery_options().timeout_seconds
    async with httpx.AsyncClient(timeout=timeout, transport=transport) as client:
        connector = connector_type(config, client)
        try:
            result = Redactor.of(config).result(await connector.send([message]))
        finally:
            await connector.close()
    return {
        "outcome": result.outcome.value,
        "error": result.error,
        "retry_after": result.retry_after,
        "failed": result.failed,
        "exchange": None if result.exchange is None else msgspec.to_builtins(result.exchange),
    }
