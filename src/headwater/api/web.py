"""The web app (``ui/``, built into ``headwater/web/dist``), served from the API's own origin.

One port, no CORS, no API URL to configure: the browser asks ``/`` and every screen's path
(``/sources/3``, ``/settings/people``...) for the app's ``index.html``, and ``/assets/...`` for
its scripts and styles, whose names carry a hash of their content (cached for a year)::

    web = WebApp.of_package()
    if web.matches(scope):
        await web(scope, receive, send)

A request is the app's when it is a GET or HEAD outside the API's own paths (``/api``, ``/v1``,
``/health``, ``/ready``, ``/metrics``) that asks for HTML, or any asset. ``/`` without
``text/html`` in ``Accept`` stays the API's JSON description. A package built without the app
answers pages with a plain 503 that says how to build it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Final

from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.types import Receive, Scope, Send

__all__ = ["ASSETS", "WebApp"]

ASSETS: Final = "/assets/"
_API_PATHS: Final = ("/api/", "/v1/", "/health", "/ready", "/metrics")
_SECURITY_HEADERS: Final = {
    # Scripts and styles come from this origin only; the app sets inline styles (widths of
    # table columns, positions of chart points), hence 'unsafe-inline' for styles alone.
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline';"
        " frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
_IMMUTABLE: Final = "public, max-age=31536000, immutable"
_NOT_BUILT: Final = """<!doctype html><html lang="en"><meta charset="utf-8">
<title>Headwater</title><body><h1>The web app is not built</h1>
<p>Run <code>./scripts/serve</code> from the repository: it builds the app (Node and npm needed)
before it starts Headwater. The APIs work meanwhile: see <a href="/api/docs">/api/docs</a>.</p>
</body></html>"""


class WebApp:
    """Serves the built app from ``root`` (its ``index.html`` and ``assets/``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.index = root / "index.html"
        self.assets = root / "assets"

    @classmethod
    def of_package(cls) -> WebApp:
        """The app built into the installed package."""
        return cls(Path(str(files("headwater") / "web" / "dist")))

    def matches(self, scope: Scope) -> bool:
        """True when the request is the app's (see the module)."""
        if scope["method"] not in ("GET", "HEAD"):
            return False
        path: str = scope["path"]
        if path.startswith(ASSETS):
            return True
        if path.startswith(_API_PATHS) or path in ("/api", "/v1"):
            return False
        return _accepts_html(scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response: Response
        if scope["path"].startswith(ASSETS):
            asset = self._asset(scope["path"][len(ASSETS) :])
            if asset is None:
                response = Response("no such asset", status_code=404, media_type="text/plain")
            else:
                response = FileResponse(asset, headers={"cache-control": _IMMUTABLE})
        elif self.index.is_file():
            response = FileResponse(self.index, headers={"cache-control": "no-cache"})
        else:
            response = HTMLResponse(_NOT_BUILT, status_code=503)
        response.headers.update(_SECURITY_HEADERS)
        await response(scope, receive, send)

    def _asset(self, name: str) -> Path | None:
        """The asset file ``name`` names, if it is one (never a path out of ``assets/``)."""
        if not name or "/" in name or "\\" in name or name.startswith("."):
            return None
        candidate = self.assets / name
        return candidate if candidate.is_file() else None


def _accepts_html(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"accept":
            return b"text/html" in value
    return False
