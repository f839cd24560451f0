"""analytics.js hosted by Headwater itself, so that a page needs no third-party CDN.

The browser SDK (the npm package ``@segment/analytics-next``, pinned in ``ui/package.json``) is
copied into the built web app by ``ui``'s build, under ``headwater/web/dist/analytics-next``.
Routes (``GET`` and ``HEAD``; the settings also answer a CORS preflight ``OPTIONS``):

- ``/v1/projects/{writeKey}/settings``: what analytics.js reads when it loads. Its
  ``Segment.io`` integration names Headwater as ``apiHost`` (``public_url`` when set, else the
  request's ``Host`` and scheme, or the ``X-Forwarded-Host`` and ``X-Forwarded-Proto`` a
  trusted proxy set), so the SDK sends its events back to Headwater's ``/v1/t``, ``/v1/p``...;
  the source's enabled browser plugins (``workspaces/plugins.py``, none by default) are its
  remote plugins, the device-mode destinations it loads on the page; the SDK's own metrics
  are off (``sampleRate`` 0). An unknown or disabled write key is a 404.
- ``/analytics.js/v1/{writeKey}/analytics.min.js`` (the snippet's path) and the same bundle at
  ``/analytics.js/analytics.min.js`` (for a snippet that sets ``analytics._writeKey``).
- ``/analytics-next/bundles/{file}``: the chunks the SDK loads on demand, and ``index.js``, the
  package's UMD build (``window.AnalyticsNext.AnalyticsBrowser``).
- ``/device-mode/{file}.js``: the browser plugins' scripts, from the plugin directory
  (``HEADWATER_DEVICE_MODE_DIR``).

Every answer allows any origin. A package built without the web app answers the bundles with
a 503 that says how to build them::

    sdk = BrowserSdk.of_package(sources=collector.keys.source, public_url=None)
    if BrowserSdk.matches(scope["path"]):
        await sdk(scope, receive, send)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from importlib.resources import files
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from starlette.responses import FileResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send

from headwater.api.client_ip import trusted
from headwater.errors import ApiError, BadRequest, MethodNotAllowed, NotFound, Unavailable
from headwater.storage import STORAGE_ERRORS
from headwater.workspaces import PLUGIN_PATH, BrowserPlugin, Source, local_file

__all__ = ["BUNDLE_DIR", "BrowserSdk", "sdk_settings"]

_log = logging.getLogger(__name__)

BUNDLE_DIR: Final = "analytics-next"
_SETTINGS: Final = re.compile(r"/v1/projects/([^/]{1,200})/settings/?")
_STANDALONE: Final = re.compile(r"/analytics\.js/(?:v1/[^/]{1,200}/)?analytics\.min\.js")
_BUNDLES: Final = "/analytics-next/bundles/"
_HOST: Final = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_HOUR: Final = "public, max-age=3600"
_IMMUTABLE: Final = "public, max-age=31536000, immutable"
_SETTINGS_CACHE: Final = "public, max-age=60"
_COMMON: Final = {
    "access-control-allow-origin": "*",
    "cross-origin-resource-policy": "cross-origin",
    "x-content-type-options": "nosniff",
}


def sdk_settings(
    write_key: str,
    *,
    api_host: str,
    protocol: str,
    plugins: Sequence[BrowserPlugin] = (),
) -> dict[str, Any]:
    """The settings document analytics.js loads for ``write_key``: events go to
    ``protocol://api_host/{t,p,i,...}``; ``plugins`` are its remote plugins (a plugin's
    ``/device-mode/`` path made absolute on Headwater's address); no SDK metrics.

    >>> sdk_settings("k", api_host="cdp.example.com/v1", protocol="https")["integrations"]
    {'Segment.io': {'apiKey': 'k', 'apiHost': 'cdp.example.com/v1', 'protocol': 'https', \
'unbundledIntegrations': [], 'addBundledMetadata': True, 'maybeBundledConfigIds': {}}}
    """
    origin = f"{protocol}://{api_host.removesuffix('/v1')}"
    integrations: dict[str, Any] = {
        "Segment.io": {
            "apiKey": write_key,
            "apiHost": api_host,
            "protocol": protocol,
            "unbundledIntegrations": [],
            "addBundledMetadata": True,
            "maybeBundledConfigIds": {},
        }
    }
    # A plugin's entry, without a type, names it for the page's integrations option only:
    # analytics.js installs classic integrations from its CDN only for type "browser".
    integrations.update((plugin.name, plugin.settings) for plugin in plugins)
    return {
        "integrations": integrations,
        "plan": {},
        "analyticsNextEnabled": True,
        "middlewareSettings": {},
        "enabledMiddleware": {},
        "metrics": {"sampleRate": 0},
        "legacyVideoPluginsEnabled": False,
        "remotePlugins": [
            {
                "name": plugin.name,
                "creationName": plugin.name,
                "libraryName": plugin.library_name,
                "url": origin + plugin.url if local_file(plugin.url) else plugin.url,
                "settings": plugin.settings,
            }
            for plugin in plugins
        ],
    }


async def _no_plugins(source_id: int) -> list[BrowserPlugin]:
    return []


class BrowserSdk:
    """Serves the SDK's files from ``root`` and the settings of the sources that ``sources``
    finds by write key (enabled or not), with the browser plugins ``plugins`` gives for a
    source id, whose scripts are served from ``plugin_dir``; ``public_url`` is Headwater's
    address as browsers see it, when configured."""

    def __init__(
        self,
        root: Path,
        *,
        sources: Callable[[str], Awaitable[Source | None]],
        plugins: Callable[[int], Awaitable[list[BrowserPlugin]]] = _no_plugins,
        plugin_dir: Path | None = None,
        public_url: str | None,
        trusted_proxies: Sequence[IPv4Network | IPv6Network] = (),
    ) -> None:
        """``trusted_proxies``: the peers whose ``X-Forwarded-Proto`` and ``X-Forwarded-Host``
        name Headwater's address when ``public_url`` is not set."""
        self.root = root
        self._sources = sources
        self._plugins = plugins
        self._plugin_dir = plugin_dir
        self._public = _public_host(public_url) if public_url else None
        self._trusted = list(trusted_proxies)

    @classmethod
    def of_package(
        cls,
        *,
        sources: Callable[[str], Awaitable[Source | None]],
        plugins: Callable[[int], Awaitable[list[BrowserPlugin]]] = _no_plugins,
        plugin_dir: Path | None = None,
        public_url: str | None,
        trusted_proxies: Sequence[IPv4Network | IPv6Network] = (),
    ) -> BrowserSdk:
        """The SDK copied into the installed package's web app."""
        return cls(
            Path(str(files("headwater") / "web" / "dist" / BUNDLE_DIR)),
            sources=sources,
            plugins=plugins,
            plugin_dir=plugin_dir,
            public_url=public_url,
            trusted_proxies=trusted_proxies,
        )

    @staticmethod
    def matches(path: str) -> bool:
        """True when ``path`` is one of this module's routes."""
        return (
            path.startswith((_BUNDLES, PLUGIN_PATH))
            or _SETTINGS.fullmatch(path) is not None
            or _STANDALONE.fullmatch(path) is not None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        settings = _SETTINGS.fullmatch(path)
        try:
            if settings is not None:
                response = await self._settings(scope, settings.group(1))
            elif path.startswith(PLUGIN_PATH):
                response = self._plugin(scope, path)
            else:
                response = self._file(scope, path)
        except ApiError as error:
            response = _error(error)
        response.headers.update(_COMMON)
        await response(scope, receive, send)

    async def _settings(self, scope: Scope, write_key: str) -> Response:
        if scope["method"] == "OPTIONS":
            return _preflight(scope)
        _only_reads(scope)
        try:
            source = await self._sources(write_key)
            if source is None or not source.enabled:
                raise NotFound("unknown_write_key", "no enabled source has this write key")
            plugins = await self._plugins(source.id)
        except STORAGE_ERRORS as error:
            _log.error("could not read a source's settings: %s", type(error).__name__)
            raise Unavailable("unavailable", "the database is unavailable; retry later") from None
        protocol, api_host = self._public or _request_host(scope, self._trusted)
        body = sdk_settings(write_key, api_host=api_host, protocol=protocol, plugins=plugins)
        return JSONResponse(body, headers={"cache-control": _SETTINGS_CACHE})

    def _file(self, scope: Scope, path: str) -> Response:
        _only_reads(scope)
        name = "standalone.js" if _STANDALONE.fullmatch(path) else path[len(_BUNDLES) :]
        if not _safe_name(name):
            raise NotFound("not_found", "no such file of analytics.js")
        if not (self.root / "standalone.js").is_file():
            raise Unavailable(
                "sdk_not_built",
                "analytics.js is not installed: build the web app (./scripts/serve does it)",
            )
        found = self.root / name
        if not found.is_file():
            raise NotFound("not_found", "no such file of analytics.js")
        media = "application/json" if name.endswith(".map") else "text/javascript; charset=utf-8"
        cache = _IMMUTABLE if ".bundle." in name else _HOUR
        return FileResponse(found, media_type=media, headers={"cache-control": cache})

    def _plugin(self, scope: Scope, path: str) -> Response:
        _only_reads(scope)
        name = local_file(path)
        found = self._plugin_dir / name if self._plugin_dir and name else None
        if found is None or not found.is_file():
            raise NotFound(
                "plugin_not_found",
                "no such browser plugin script: put it in Headwater's device-mode directory",
            )
        return FileResponse(
            found,
            media_type="text/javascript; charset=utf-8",
            headers={"cache-control": _HOUR},
        )


def _only_reads(scope: Scope) -> None:
    if scope["method"] not in ("GET", "HEAD"):
        raise MethodNotAllowed("method_not_allowed", "use GET")


def _safe_name(name: str) -> bool:
    """A file name of the bundle directory, never a path out of it."""
    return (
        bool(name)
        and "/" not in name
        and "\\" not in name
        and not name.startswith(".")
        and name.endswith((".js", ".js.map"))
    )


def _public_host(public_url: str) -> tuple[str, str]:
    """(protocol, apiHost) from the configured public URL: ``https://cdp.example.com/hw``
    gives ``("https", "cdp.example.com/hw/v1")``."""
    parts = urlsplit(public_url)
    return parts.scheme or "https", f"{parts.netloc}{parts.path.rstrip('/')}/v1"


def _request_host(scope: Scope, proxies: Sequence[IPv4Network | IPv6Network]) -> tuple[str, str]:
    """(protocol, apiHost) from the request: its scheme and ``Host`` header, or, from a
    trusted proxy, the first ``X-Forwarded-Proto`` and ``X-Forwarded-Host`` it sets."""
    headers = dict(scope["headers"])
    scheme = "https" if scope.get("scheme") == "https" else "http"
    host = headers.get(b"host", b"").decode("latin-1")
    client = scope.get("client")
    if client and trusted(client[0], proxies):
        proto = _first(headers.get(b"x-forwarded-proto")).lower()
        scheme = proto if proto in ("http", "https") else scheme
        host = _first(headers.get(b"x-forwarded-host")) or host
    if not _HOST.fullmatch(host):
        raise BadRequest("invalid_host", "the Host header is missing or not a host name")
    return scheme, f"{host}/v1"


def _first(value: bytes | None) -> str:
    """The first of a forwarded header's comma-separated values (the client's side)."""
    return value.decode("latin-1").split(",")[0].strip() if value else ""


def _preflight(scope: Scope) -> Response:
    requested = next(
        (value for name, value in scope["headers"] if name == b"access-control-request-headers"),
        b"",
    )
    headers = {
        "access-control-allow-methods": "GET, HEAD, OPTIONS",
        "access-control-max-age": "86400",
    }
    if requested:
        headers["access-control-allow-headers"] = requested.decode("latin-1")
    return Response(status_code=204, headers=headers)


def _error(error: ApiError) -> Response:
    headers = {"cache-control": "no-store"}
    if isinstance(error, MethodNotAllowed):
        headers["allow"] = "GET, HEAD, OPTIONS"
    return JSONResponse(error.body(), status_code=error.status, headers=headers)
