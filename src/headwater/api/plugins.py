"""Management API: a source's browser plugins, the device-mode destinations analytics.js loads
on the page (``workspaces/plugins.py``; the settings analytics.js reads list the enabled ones).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from headwater.api.scope import SCOPED, WORKSPACE, Allowed, SourceId
from headwater.workspaces import (
    BrowserPlugin,
    PluginCache,
    check_plugins,
    get_plugins,
    set_plugins,
)

__all__ = ["PluginView", "router"]

router = APIRouter(prefix=WORKSPACE + "/sources", tags=["sources"], dependencies=SCOPED)


class PluginView(BaseModel):
    name: str = Field(
        description="the destination's name, as the page's integrations option names it"
    )
    library_name: str = Field(description="the global function the script defines")
    url: str = Field(description="an http(s) URL, or /device-mode/<file>.js served by Headwater")
    settings: dict[str, Any] = Field(default_factory=dict, description="handed to the function")
    enabled: bool = True


class PluginsIn(BaseModel):
    plugins: list[dict[str, Any]] = Field(description="every plugin of the source, in order")


class PluginsView(BaseModel):
    plugins: list[PluginView]


@router.get("/{source_id}/plugins")
async def list_plugins(source_id: SourceId, runtime: Allowed) -> PluginsView:
    """The source's browser plugins, enabled or not (none until some are set)."""
    found = await get_plugins(runtime.database.engine, source_id)
    return PluginsView(plugins=[_view(p) for p in found])


@router.put("/{source_id}/plugins")
async def replace_plugins(
    source_id: SourceId, body: PluginsIn, request: Request, runtime: Allowed
) -> PluginsView:
    """Replace the source's browser plugins; 400 ``invalid_plugins`` names the first problem.
    Pages pick the change up with their next settings (browsers keep them up to a minute)."""
    stored = await set_plugins(runtime.database.engine, source_id, check_plugins(body.plugins))
    cache: PluginCache | None = getattr(request.app.state, "plugins", None)
    if cache is not None:
        cache.forget()
    return PluginsView(plugins=[_view(p) for p in stored])


def _view(plugin: BrowserPlugin) -> PluginView:
    return PluginView(
        name=plugin.name,
        library_name=plugin.library_name,
        url=plugin.url,
        settings=plugin.settings,
        enabled=plugin.enabled,
    )
