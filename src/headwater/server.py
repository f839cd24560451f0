"""``headwater serve``: everything in one process (or ``--workers`` processes), behind uvicorn."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
from typing import Any

import uvicorn
from rich.console import Console
from uvicorn.supervisors import Multiprocess

from headwater.api import HeadwaterApp, create_app
from headwater.client_config import config_path, local_url, write_config
from headwater.connections import ConnectionLimits, GuardedConfig, GuardedProtocol
from headwater.runtime import FirstStart
from headwater.settings import Settings
from headwater.telemetry.logging import configure

__all__ = ["announce", "app_from_env", "serve"]

_STARTUP_SECONDS = 60


def announce(console: Console, settings: Settings, created: FirstStart) -> None:
    """Print what the first start created: the write key, the owner's API token and set-up
    link are shown once.

    A generated API token is also written, with this server's URL, to the CLI's config file
    (:func:`headwater.client_config.config_path`), so that ``headwater sources list`` works
    at once.
    """
    url = settings.public_url or local_url(settings.host, settings.port)
    console.print("[bold green]Headwater is set up.[/] Created on first start:")
    if created.workspace is not None:
        console.print(f"  workspace      {created.workspace.workspace.slug}")
        console.print(f"  source         {created.workspace.source.name}")
        console.print(f"  write key      [bold]{created.workspace.source.write_key}[/]")
    owner = created.owner
    if owner is None:
        return
    if owner.email:
        console.print(f"  owner          {owner.email}  (sign in with the configured password)")
    if owner.setup_token:
        link = f"{url.rstrip('/')}/setup#{owner.setup_token}"
        console.print(f"  owner set-up   [bold]{link}[/]")
        console.print("                 (one use, 7 days: choose the owner's email and password)")
    if owner.admin_token:
        console.print(f"  API token      [bold]{owner.admin_token}[/]  (the owner's; shown once)")
        path = config_path()
        try:
            write_config(path, url=url, token=owner.admin_token)
        except OSError as error:  # a read-only home must not stop the server; the token is shown
            console.print(f"  [yellow]could not write the CLI's config {path}: {error}[/]")
        else:
            console.print(f"  CLI config     {path}  (the CLI reaches {url} with this token)")


def app_from_env() -> HeadwaterApp:
    """The application each worker process builds when ``workers`` > 1 (settings from the
    environment, which :func:`serve` fills in before the workers start)."""
    _stop_with_parent()
    settings = Settings()
    configure(level=settings.log_level, form=settings.log_format)
    console = Console(stderr=True, soft_wrap=True)
    return create_app(settings, announce=lambda created: announce(console, settings, created))


def _stop_with_parent() -> None:
    """Have the kernel send this server process SIGTERM when its parent (uvicorn's supervisor)
    dies, even by ``kill -9``: otherwise the processes kept serving the port, with no parent
    to stop them. SIGTERM shuts a process down as ``headwater serve`` does (the last one out
    stops embedded PostgreSQL). Linux only (``prctl``); elsewhere the gap remains."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getppid()
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


def serve(settings: Settings, *, console: Console) -> None:
    """Run the API, the collector, the processor and (embedded) PostgreSQL until interrupted.

    With ``settings.workers`` > 1, that many processes share the port; each runs its own
    collector, and the processors share the log's partitions through leases.
    """
    configure(level=settings.log_level, form=settings.log_format)
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop",
        "http": GuardedProtocol,  # httptools, with header and body timeouts and a header cap
        "lifespan": "on",
        "access_log": False,
        "log_level": settings.log_level,
        "log_config": None,  # logs go through headwater.telemetry.logging
        "timeout_keep_alive": settings.keep_alive_timeout_seconds,
        "limits": ConnectionLimits(
            max_header_bytes=settings.max_header_bytes,
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
        ),
        "backlog": 4096,
        "proxy_headers": False,  # the tracking API reads X-Forwarded-For from trusted proxies
    }
    console.print(f"Web app        {base}/  (sign in with the owner's email and password)")
    console.print(f"Tracking API   {base}/v1/batch  (also /v1/track, /v1/identify, …)")
    console.print(f"Management API {base}/api/v1   docs {base}/api/docs")
    console.print(f"Metrics        {base}/metrics")
    console.print(f"Processes      {settings.workers}  (--workers N to choose)")
    if settings.workers > 1:
        _prepare_workers(settings)
        # What uvicorn.run does for workers, with our config class (pickled into each worker).
        config = GuardedConfig(
            "headwater.server:app_from_env",
            factory=True,
            workers=settings.workers,
            # uvicorn kills a process that has not answered its first ping within this time,
            # and a process answers only once it has imported Headwater: 7 s on a busy 2-core
            # machine, where uvicorn's 5 s default killed and restarted every process in turn.
            timeout_worker_healthcheck=_STARTUP_SECONDS,
            **options,
        )
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    app = create_app(settings, announce=lambda created: announce(console, settings, created))
    uvicorn.Server(GuardedConfig(app, **options)).run()


def _prepare_workers(settings: Settings) -> None:
    """Hand the settings to the worker processes, and give them one metrics directory so that
    ``/metrics`` adds up every process."""
    data_dir = settings.resolved_data_dir()
    metrics = data_dir / "metrics"
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir(parents=True)
    os.environ.update(
        {
            "HEADWATER_HOST": settings.host,
            "HEADWATER_PORT": str(settings.port),
            "HEADWATER_DATA_DIR": str(data_dir),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        }
    )
