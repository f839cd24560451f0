"""Secret config fields, encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256).

A connector's config fields typed ``pydantic.SecretStr`` (also inside ``dict[str, SecretStr]``)
are stored as ``{"$secret": "<fernet token>"}`` and shown by the API as ``{"set": true}``.

The key, so that every process decrypts what any other encrypted:

- ``HEADWATER_SECRET_KEY``: one or more comma-separated keys (a Fernet key, or any passphrase,
  stretched with SHA-256). The first encrypts; all decrypt, so a key can be rotated by putting
  the new one first. Set it in production: a database dump then reveals no secret.
- otherwise a key generated once and kept in the database (``meta`` row
  ``destinations_secret_key``), shared by every process on that database. This protects
  secrets from the API and from logs, not from someone holding the database itself.

>>> box = SecretBox.from_keys(["passphrase"])
>>> box.decrypt(box.encrypt("s3cret"))
's3cret'
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Any

import pydantic
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import text

from headwater.errors import ConfigurationError
from headwater.storage import Transaction

__all__ = ["MARK", "SecretBox", "load_box", "masked", "secret_fields"]

MARK = "$secret"
_META_KEY = "destinations_secret_key"


def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except ValueError:
        return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


class SecretBox:
    def __init__(self, fernet: MultiFernet) -> None:
        self._fernet = fernet

    @classmethod
    def from_keys(cls, keys: Sequence[str]) -> SecretBox:
        if not keys:
            raise ConfigurationError("a secret box needs at least one key")
        return cls(MultiFernet([_fernet(key) for key in keys]))

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigurationError(
                "a destination secret does not decrypt with HEADWATER_SECRET_KEY: "
                "was the key changed without keeping the old one after it?"
            ) from None

    def seal(self, config: dict[str, Any], fields: dict[str, bool]) -> dict[str, Any]:
        """``config`` (plain JSON values) with the secret ``fields`` encrypted.

        ``fields`` maps a field name to True when it is a dict of secrets.
        """
        sealed = dict(config)
        for name, is_map in fields.items():
            value = sealed.get(name)
            if value is None:
                continue
            if is_map and isinstance(value, dict):
                sealed[name] = {k: self._seal_one(v) for k, v in value.items()}
            else:
                sealed[name] = self._seal_one(value)
        return sealed

    def _seal_one(self, value: Any) -> Any:
        if isinstance(value, dict) and MARK in value:
            return value  # already sealed (an update keeping the stored secret)
        return {MARK: self.encrypt(str(value))}

    def open(self, config: dict[str, Any]) -> dict[str, Any]:
        """``config`` as stored, with every sealed value decrypted."""
        return {name: self._open_any(value) for name, value in config.items()}

    def _open_any(self, value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {MARK}:
                return self.decrypt(value[MARK])
            return {k: self._open_any(v) for k, v in value.items()}
        return value


def masked(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` as stored, each sealed value shown as ``{"set": true}``."""

    def mask(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {MARK}:
                return {"set": True}
            return {k: mask(v) for k, v in value.items()}
        return value

    return {name: mask(value) for name, value in config.items()}


def secret_fields(config_type: type[pydantic.BaseModel]) -> dict[str, bool]:
    """The config's secret fields: name -> True for ``dict[str, SecretStr]``, False for one."""
    found: dict[str, bool] = {}
    for name, field in config_type.model_fields.items():
        shown = repr(field.annotation)
        if "SecretStr" not in shown:
            continue
        found[name] = shown.startswith("dict[") or "Dict[" in shown
    return found


async def load_box(connection: Transaction, configured: str | None) -> SecretBox:
    """The box for ``HEADWATER_SECRET_KEY``, else for the key kept in the database (created
    on first use; concurrent first uses agree, the insert being ``ON CONFLICT DO NOTHING``)."""
    keys = [k.strip() for k in (configured or "").split(",") if k.strip()]
    stored = await connection.scalar(
        text("SELECT value FROM meta WHERE key = :key"), {"key": _META_KEY}
    )
    if keys:
        return SecretBox.from_keys([*keys, *([stored] if stored else [])])
    if stored is None:
        await connection.execute(
            text("INSERT INTO meta (key, value) VALUES (:key, :value) ON CONFLICT DO NOTHING"),
            {"key": _META_KEY, "value": Fernet.generate_key().decode()},
        )
        stored = await connection.scalar(
            text("SELECT value FROM meta WHERE key = :key"), {"key": _META_KEY}
        )
    return SecretBox.from_keys([str(stored)])
