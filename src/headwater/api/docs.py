"""The API's documentation pages, Swagger UI at ``/api/docs`` and ReDoc at ``/api/redoc``,
served with their scripts, styles and icon from this server, so that they work offline.

FastAPI's own pages load their assets from a CDN. The assets come from the locked package
``fastapi-offline`` (MIT; it ships Swagger UI's dist files, Apache-2.0, and ReDoc's standalone
bundle, MIT), mounted as static files under ``/api/docs/assets``::

    add_docs(api, openapi_url="/api/openapi.json")
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS", "DOCS", "REDOC", "add_docs"]

DOCS: Final = "/api/docs"
REDOC: Final = "/api/redoc"
ASSETS: Final = "/api/docs/assets"
_OAUTH2_REDIRECT: Final = "/api/docs/oauth2-redirect"


def add_docs(api: FastAPI, *, openapi_url: str) -> None:
    """Add the documentation pages and their assets to ``api`` (built with ``docs_url`` and
    ``redoc_url`` None, so that FastAPI adds no CDN-bound pages of its own)."""
    api.mount(ASSETS, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-assets")

    @api.get(DOCS, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{api.title} - API",
            oauth2_redirect_url=root + _OAUTH2_REDIRECT,
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
        )

    @api.get(_OAUTH2_REDIRECT, include_in_schema=False)
    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @api.get(REDOC, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{api.title} - API",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )
