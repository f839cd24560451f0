"""``headwater serve``: everything in one process, behind uvicorn."""

from __future__ import annotations

import logging

import uvicorn
from rich.console import Console

from headwater.api import create_app
from headwater.settings import Settings
from headwater.workspaces import Bootstrap

__all__ = ["announce", "serve"]


def announce(console: Console, created: Bootstrap) -> None:
    """Print what the first start created: the write key and admin token are shown once."""
    console.print("[bold green]Headwater is set up.[/] Created on first start:")
    console.print(f"  workspace      {created.workspace.slug}")
    console.print(f"  source         {created.source.name}")
    console.print(f"  write key      [bold]{created.source.write_key}[/]")
    if created.admin_token:
        console.print(f"  admin token    [bold]{created.admin_token}[/]  (shown once; keep it)")


def serve(settings: Settings, *, console: Console) -> None:
    """Run the API, the collector and (embedded) PostgreSQL until interrupted."""
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    base = settings.public_url or f"http://{settings.host}:{settings.port}"

    app = create_app(settings, announce=lambda created: announce(console, created))
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level=settings.log_level,
        timeout_keep_alive=30,
        backlog=4096,
        proxy_headers=False,  # the tracking API reads X-Forwarded-For from trusted proxies itself
    )
    server = uvicorn.Server(config)
    console.print(f"Tracking API   {base}/v1/batch  (also /v1/track, /v1/identify, …)")
    console.print(f"Management API {base}/api/v1   docs {base}/api/docs")
    console.print(f"Metrics        {base}/metrics")
    server.run()
