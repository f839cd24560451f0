"""Webhook sources: their configuration (created, changed, its secret rotated), the source a
URL key names with its secrets opened, and the debugger's history. Each function owns its
transaction.

>>> made = await create(engine, workspace="default", name="Stripe", preset="stripe",
...                     config=None, secret="whsec_…", secret_key=None)
>>> made["hook"]["path"]
'/v1/hooks/…'
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.destinations import SecretBox, load_box
from headwater.errors import BadRequest, NotFound
from headwater.hooks import store
from headwater.hooks.expressions import ExpressionError, compile_expression
from headwater.hooks.model import HookConfig, parse_config
from headwater.hooks.presets import PRESETS, preset_config
from headwater.hooks.views import HookRequestView, HookView, RotatedView
from headwater.storage import connected, transaction
from headwater.workspaces import Source, create_source, find_source

__all__ = [
    "SECRET_FIELD",
    "Receiver",
    "configure",
    "create",
    "describe",
    "history",
    "receiver",
    "record",
    "rotate",
    "validated",
]

SECRET_FIELD = {"hmac": "secret", "bearer": "token", "basic": "password", "ecdsa": "public_key"}
"""Per authentication type, the field holding what proves the sender (sealed at rest)."""
_MARK = "$secret"
_GENERATED = ("hmac", "bearer", "basic")


@dataclass(frozen=True)
class Receiver:
    """A webhook source as its URL receives: the source and its configuration, secrets open."""

    source: Source
    config: HookConfig


def _new_key() -> str:
    return secrets.token_urlsafe(24)


def _check_expressions(config: HookConfig) -> None:
    """Each expression parses, else 400 ``invalid_hook_config`` naming its field."""
    sources = [("transform", config.transform)] if config.transform else []
    for index, rule in enumerate(config.rules):
        named = [*((f"set.{k}", v) for k, v in rule.set.items()), ("message_id", rule.message_id)]
        sources += [
            (f"rules.{index}.{where}", v.expr)
            for where, v in named
            if not isinstance(v, str) and v.expr is not None
        ]
    for field, source in sources:
        try:
            compile_expression(source)
        except ExpressionError as error:
            raise BadRequest(
                "invalid_hook_config",
                f"the expression {source[:60]!r} is invalid: {error}",
                errors=[{"field": field, "message": f"the expression is invalid: {error}"}],
            ) from None


def validated(raw: dict[str, Any]) -> HookConfig:
    """``raw`` as a configuration, its expressions parsed; 400 ``invalid_hook_config``."""
    config = parse_config(raw)
    _check_expressions(config)
    return config


def _resolve(
    preset: str | None, config: dict[str, Any] | None, secret: str | None
) -> dict[str, Any]:
    if config is None:
        if preset is None:
            raise BadRequest("invalid_hook_config", "give a preset or a configuration")
        made = preset_config(preset, secret)
        if made is None:
            raise BadRequest(
                "unknown_preset", f"no preset {preset!r}; there are: {', '.join(PRESETS)}"
            )
        return made
    raw = dict(config)
    auth = raw.get("auth")
    if secret is not None and isinstance(auth, dict):
        field = SECRET_FIELD.get(str(auth.get("type")))
        if field is None:
            raise BadRequest("invalid_hook_config", "this authentication takes no secret")
        raw["auth"] = {**auth, field: secret}
    return raw


def _seal(box: SecretBox, raw: dict[str, Any], kept: dict[str, Any] | None) -> dict[str, Any]:
    """``raw`` with its secret sealed; a secret left out (or shown as ``{"set": true}``)
    keeps the stored one when the authentication type is unchanged."""
    auth = dict(raw["auth"])
    field = SECRET_FIELD.get(auth["type"])
    if field is not None:
        value = auth.get(field)
        same_type = kept is not None and kept.get("type") == auth["type"]
        if (value is None or value == {"set": True}) and same_type and kept is not None:
            auth[field] = kept.get(field)
        elif isinstance(value, str) and field != "public_key":
            auth[field] = {_MARK: box.encrypt(value)}
    return {**raw, "auth": auth}


def _open(box: SecretBox, stored: dict[str, Any]) -> dict[str, Any]:
    auth = {
        k: box.decrypt(v[_MARK]) if isinstance(v, dict) and set(v) == {_MARK} else v
        for k, v in stored["auth"].items()
    }
    return {**stored, "auth": auth}


def _masked(stored: dict[str, Any]) -> dict[str, Any]:
    auth = {
        k: {"set": True} if isinstance(v, dict) and set(v) == {_MARK} else v
        for k, v in stored["auth"].items()
    }
    return {**stored, "auth": auth}


def _view(source: Source, row: store.HookRow, public_url: str | None) -> HookView:
    path = f"/v1/hooks/{row.url_key}"
    return {
        "source_id": source.id,
        "name": source.name,
        "enabled": source.enabled,
        "url_key": row.url_key,
        "path": path,
        "url": public_url.rstrip("/") + path if public_url else None,
        "preset": row.preset,
        "config": _masked(row.config),
        "updated_at": row.updated_at,
    }


def _plain(raw: dict[str, Any]) -> dict[str, Any]:
    """The validated configuration as JSON, without defaults left unset."""
    return validated(raw).model_dump(mode="json", exclude_none=True, by_alias=True)


def _with_generated(raw: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    auth = raw.get("auth")
    if not isinstance(auth, dict) or auth.get("type") not in _GENERATED:
        return raw, None
    field = SECRET_FIELD[str(auth["type"])]
    if auth.get(field):
        return raw, None
    made = secrets.token_urlsafe(32)
    return {**raw, "auth": {**auth, field: made}}, made


async def create(
    engine: AsyncEngine,
    *,
    workspace: str,
    name: str,
    preset: str | None,
    config: dict[str, Any] | None,
    secret: str | None,
    secret_key: str | None,
    public_url: str | None = None,
) -> RotatedView:
    """A new source of kind ``webhook`` with its configuration (a preset's, or ``config``),
    ``secret`` put in its authentication. Without one, an HMAC, bearer or basic secret is
    generated and returned this once; a SendGrid-style public key must be given."""
    raw, generated = _with_generated(_resolve(preset, config, secret))
    plain = _plain(raw)
    if plain["auth"]["type"] == "ecdsa" and not plain["auth"].get("public_key"):
        raise BadRequest("invalid_hook_config", "this authentication needs the sender's public key")
    source = await create_source(engine, name=name, workspace=workspace, kind="webhook")
    async with transaction(engine) as tx:
        box = await load_box(tx, secret_key)
        await store.insert_config(
            tx,
            source_id=source.id,
            url_key=_new_key(),
            preset=preset,
            config=_seal(box, plain, None),
        )
        row = await store.get(tx, source.id)
    assert row is not None
    return {"id": source.id, "hook": _view(source, row, public_url), "secret": generated}


async def _source_and_row(engine: AsyncEngine, source_id: int) -> tuple[Source, store.HookRow]:
    source = await find_source(engine, source_id)
    async with connected(engine) as tx:
        row = await store.get(tx, source_id)
    if source is None or row is None:
        raise NotFound("not_a_webhook_source", "this source is not a configured webhook source")
    return source, row


async def describe(engine: AsyncEngine, source_id: int, *, public_url: str | None) -> HookView:
    source, row = await _source_and_row(engine, source_id)
    return _view(source, row, public_url)


async def configure(
    engine: AsyncEngine,
    source_id: int,
    *,
    preset: str | None,
    config: dict[str, Any] | None,
    secret: str | None,
    secret_key: str | None,
    public_url: str | None = None,
) -> HookView:
    """Replace the source's configuration; its secret is kept unless a new one is given (or
    the authentication type changes)."""
    source, _ = await _source_and_row(engine, source_id)
    raw = _resolve(preset, config, secret)
    async with transaction(engine) as tx:
        box = await load_box(tx, secret_key)
        row = await store.get(tx, source_id, lock=True)
        assert row is not None
        auth = raw.get("auth")
        if isinstance(auth, dict):
            field = SECRET_FIELD.get(str(auth.get("type")))
            if field is not None and auth.get(field) == {"set": True}:
                raw = {**raw, "auth": {k: v for k, v in auth.items() if k != field}}
        plain = _plain(raw)
        sealed = _seal(box, plain, row.config["auth"])
        await store.update_config(
            tx, source_id, config=sealed, preset=preset, now=datetime.now(UTC)
        )
        row = await store.get(tx, source_id)
    assert row is not None
    return _view(source, row, public_url)


async def rotate(
    engine: AsyncEngine,
    source_id: int,
    *,
    secret: str | None,
    new_secret: bool = True,
    new_url: bool,
    secret_key: str | None,
    public_url: str | None = None,
) -> RotatedView:
    """With ``new_secret``, a new secret: ``secret``, or one generated and shown this once (an
    HMAC, bearer or basic secret), and, with ``new_url``, a new URL key (the old URL stops answering
    at once)."""
    source, _ = await _source_and_row(engine, source_id)
    async with transaction(engine) as tx:
        box = await load_box(tx, secret_key)
        row = await store.get(tx, source_id, lock=True)
        assert row is not None
        auth = dict(row.config["auth"])
        field = SECRET_FIELD.get(auth["type"])
        shown: str | None = None
        config = None
        if new_secret:
            if field is None:
                raise BadRequest("invalid_hook_config", "this authentication takes no secret")
            if secret is None and auth["type"] not in _GENERATED:
                raise BadRequest("invalid_hook_config", "give the new public key from the sender")
            value = secret if secret is not None else secrets.token_urlsafe(32)
            shown = None if secret is not None else value
            auth[field] = value if field == "public_key" else {_MARK: box.encrypt(value)}
            config = {**row.config, "auth": auth}
        await store.update_config(
            tx,
            source_id,
            config=config,
            preset=row.preset,
            url_key=_new_key() if new_url else None,
            now=datetime.now(UTC),
        )
        row = await store.get(tx, source_id)
    assert row is not None
    return {"id": source.id, "hook": _view(source, row, public_url), "secret": shown}


async def receiver(engine: AsyncEngine, url_key: str, secret_key: str | None) -> Receiver | None:
    """The webhook source ``url_key`` names, with its secrets opened, or None."""
    async with connected(engine) as tx:
        row = await store.find_by_key(tx, url_key)
        if row is None:
            return None
        box = await load_box(tx, secret_key)
        await tx.connection.commit()
    source = await find_source(engine, row.source_id)
    if source is None:
        return None
    return Receiver(source=source, config=parse_config(_open(box, row.config)))


async def record(engine: AsyncEngine, source: Source, entry: dict[str, Any]) -> None:
    """Add a request to the source's debugger history (``hook_requests``' columns).

    Committed without waiting for the disk (``synchronous_commit`` off for this transaction):
    the history is a debugging aid, written after the messages' own durable commit, and a
    crash may lose its last fraction of a second rather than every request waiting a flush."""
    async with transaction(engine) as tx:
        await tx.execute(text("SET LOCAL synchronous_commit TO off"))
        await store.insert_request(
            tx, workspace_id=source.workspace_id, source_id=source.id, entry=entry
        )


async def history(
    engine: AsyncEngine, source_id: int, *, after: int | None = None, limit: int = 50
) -> list[HookRequestView]:
    async with connected(engine) as tx:
        rows = await store.history(tx, source_id, after=after, limit=limit)
    return [
        {
            "id": row.id,
            "received_at": row.received_at,
            "method": row.method,
            "headers": row.headers,
            "query": row.query,
            "body": row.body,
            "body_bytes": row.body_bytes,
            "status": row.status,
            "outcome": row.outcome,
            "reason": row.reason,
            "messages": row.messages,
            "errors": row.errors,
        }
        for row in rows
    ]
