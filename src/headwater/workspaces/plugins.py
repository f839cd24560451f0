"""A source's browser plugins: the device-mode destinations analytics.js loads on the page.

analytics.js reads its settings from Headwater (``api/browser_sdk.py``); each enabled plugin of
the source is listed there as a remote plugin: analytics.js loads the plugin's script from
``url``, calls the function the script defines as ``window[library_name]`` with ``settings``,
and hands every event to the plugin(s) it returns. A ``url`` that is a path under
``/device-mode/`` names a file Headwater serves itself, so the page needs no third-party CDN.
No plugin by default.

>>> plugins = check_plugins([{"name": "Chat", "library_name": "chatPlugin",
...                           "url": "/device-mode/chat.js", "settings": {"appId": "a1"}}])
>>> plugins[0].enabled
True
"""

from __future__ import annotations

import re
import time
from typing import Any, Final

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.errors import BadRequest
from headwater.storage import connected, transaction
from headwater.workspaces import plugins_store

__all__ = [
    "PLUGIN_PATH",
    "BrowserPlugin",
    "PluginCache",
    "check_plugins",
    "get_plugins",
    "local_file",
    "set_plugins",
]

PLUGIN_PATH: Final = "/device-mode/"
"""Where Headwater serves plugin scripts from its plugin directory."""

_MOST: Final = 20
_SETTINGS_BYTES: Final = 16 * 1024
_LIBRARY: Final = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]{0,99}")
_FILE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.js")
_URL: Final = re.compile(r"https?://[^\s\"'<>]{1,2000}")


class BrowserPlugin(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    """The destination's name, as the page's ``integrations`` option names it (``{"Chat":
    false}`` turns it off for one call)."""
    library_name: str
    """The global function the script defines: ``settings`` in, plugin(s) out."""
    url: str
    """The script: an ``http(s)`` URL, or ``/device-mode/<file>.js`` served by Headwater."""
    settings: dict[str, Any] = {}
    enabled: bool = True


def check_plugins(raw: object) -> list[BrowserPlugin]:
    """``raw`` (a list of plugin objects) as plugins, or 400 ``invalid_plugins`` naming the
    first problem: at most 20, names unique and 1-200 characters, ``library_name`` a
    JavaScript identifier, ``url`` as :attr:`BrowserPlugin.url` says, ``settings`` an object
    of at most 16 KB of JSON."""
    try:
        plugins = msgspec.convert(raw, list[BrowserPlugin])
    except msgspec.ValidationError as error:
        raise BadRequest("invalid_plugins", f"plugins: {error}") from None
    if len(plugins) > _MOST:
        raise BadRequest("invalid_plugins", f"a source has at most {_MOST} plugins")
    seen: set[str] = set()
    for index, plugin in enumerate(plugins):
        where = f"plugin {index + 1} ({plugin.name!r})"
        problem = _problem(plugin, seen)
        if problem is not None:
            raise BadRequest("invalid_plugins", f"{where}: {problem}")
        seen.add(plugin.name)
    return plugins


def _problem(plugin: BrowserPlugin, seen: set[str]) -> str | None:
    if not plugin.name.strip() or len(plugin.name) > 200 or not plugin.name.isprintable():
        return "the name needs 1-200 printable characters"
    if plugin.name in seen:
        return "another plugin has this name"
    if plugin.name.startswith("Segment"):
        return "names starting with 'Segment' are analytics.js's own"
    if not _LIBRARY.fullmatch(plugin.library_name):
        return "library_name must be a JavaScript identifier (letters, digits, _ and $)"
    if not (_URL.fullmatch(plugin.url) or local_file(plugin.url)):
        return f"url must be an http(s) URL or {PLUGIN_PATH}<file>.js"
    if len(msgspec.json.encode(plugin.settings)) > _SETTINGS_BYTES:
        return f"settings are limited to {_SETTINGS_BYTES // 1024} KB of JSON"
    return None


def local_file(url: str) -> str | None:
    """The file name of a ``/device-mode/<file>.js`` URL, or None for any other URL."""
    if url.startswith(PLUGIN_PATH) and _FILE.fullmatch(url[len(PLUGIN_PATH) :]):
        return url[len(PLUGIN_PATH) :]
    return None


async def get_plugins(engine: AsyncEngine, source_id: int) -> list[BrowserPlugin]:
    """The source's plugins, enabled or not, in their order (none when never set)."""
    async with connected(engine) as connection:
        return msgspec.convert(await plugins_store.read(connection, source_id), list[BrowserPlugin])


async def set_plugins(
    engine: AsyncEngine, source_id: int, plugins: list[BrowserPlugin]
) -> list[BrowserPlugin]:
    """Replace the source's plugins with ``plugins`` (checked by :func:`check_plugins`)."""
    async with transaction(engine) as connection:
        await plugins_store.write(connection, source_id, msgspec.to_builtins(plugins))
        return msgspec.convert(await plugins_store.read(connection, source_id), list[BrowserPlugin])


class PluginCache:
    """Each source's enabled plugins, read again after ``ttl`` seconds: every page view of a
    site asks for them (through the settings analytics.js loads)."""

    def __init__(self, engine: AsyncEngine, *, ttl: float) -> None:
        self._engine = engine
        self._ttl = ttl
        self._held: dict[int, tuple[float, list[BrowserPlugin]]] = {}

    async def enabled(self, source_id: int) -> list[BrowserPlugin]:
        held = self._held.get(source_id)
        if held is not None and held[0] > time.monotonic():
            return held[1]
        found = [p for p in await get_plugins(self._engine, source_id) if p.enabled]
        if len(self._held) > 10_000:
            self._held.clear()
        self._held[source_id] = (time.monotonic() + self._ttl, found)
        return found

    def forget(self) -> None:
        """Read every source's plugins again on next use (this process changed some)."""
        self._held.clear()
