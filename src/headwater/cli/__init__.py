"""The ``headwater`` command.

``serve``, ``worker`` and ``migrate`` run here, on the local database. Every other group talks
to a running Headwater through its management API (``remote``: by ``--url``/``--token``, the
environment, or the config file ``serve`` writes on first start) and prints a table, or JSON
with ``--json``. One module per group: ``data`` (sources, events, identity), ``plans``,
``destinations``, ``audiences``, ``failures``, ``privacy`` (regulations, suppressions and
subject access exports), ``pii``, ``imports`` (``headwater import FILE``), ``people`` (users
and members), ``tokens``, ``audit``; ``output`` holds the printing, ``common`` the local
settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from headwater.cli.audiences import audiences_app
from headwater.cli.audit import audit_app
from headwater.cli.common import DataDir, settings_for, with_database
from headwater.cli.data import events_app, identity_app, sources_app
from headwater.cli.destinations import destinations_app
from headwater.cli.failures import failures_app
from headwater.cli.hooks import webhook_app
from headwater.cli.imports import import_file
from headwater.cli.journeys import journeys_app
from headwater.cli.output import console
from headwater.cli.people import members_app, users_app
from headwater.cli.pii import pii_app
from headwater.cli.plans import plans_app
from headwater.cli.privacy import privacy_app
from headwater.cli.retl import retl_app
from headwater.cli.tokens import tokens_app

__all__ = ["app", "main"]

app = typer.Typer(
    help="Headwater: an open-source, self-hosted customer data platform.", no_args_is_help=True
)
app.add_typer(sources_app, name="sources")
sources_app.add_typer(webhook_app, name="webhook")
app.add_typer(events_app, name="events")
app.add_typer(identity_app, name="identity")
app.add_typer(destinations_app, name="destinations")
app.add_typer(plans_app, name="plans")
app.add_typer(audiences_app, name="audiences")
app.add_typer(journeys_app, name="journeys")
app.add_typer(failures_app, name="failures")
app.add_typer(users_app, name="users")
app.add_typer(members_app, name="members")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")
app.add_typer(privacy_app, name="privacy")
app.add_typer(pii_app, name="pii")
app.add_typer(retl_app, name="retl")
app.command("import")(import_file)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on (HEADWATER_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on (HEADWATER_PORT)")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="server processes sharing the port (HEADWATER_WORKERS; default: one per two"
            " cores with embedded PostgreSQL, one per core with an external one; at most 4)"
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Run Headwater: tracking API, management API, processor and embedded PostgreSQL."""
    # The server's modules are imported by the commands that run it, so that the remote
    # commands start in a fraction of the time.
    from headwater.server import serve as run_server

    run_server(settings_for(data_dir, host=host, port=port, workers=workers), console=console)


@app.command()
def worker(data_dir: DataDir = None) -> None:
    """Run the processor, delivery and the audience scheduler without the HTTP APIs; run as many
    as needed."""
    from headwater.worker import work

    work(settings_for(data_dir), console=console)


@app.command("openapi")
def openapi_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write to this file (default: stdout)")
    ] = None,
) -> None:
    """Print the OpenAPI document of every API (JSON): the web app's client types come from it."""
    import json

    from headwater.api import create_app

    document = json.dumps(create_app(settings_for()).api.openapi(), indent=1, sort_keys=True)
    if output is None:
        typer.echo(document)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(document + "\n", encoding="utf-8")


@app.command("migrate")
def migrate_command(data_dir: DataDir = None) -> None:
    """Bring the database schema up to date (the first-start setup is left to serve)."""
    from headwater.storage import migrate

    with_database(settings_for(data_dir), lambda database: migrate(database.engine))
    console.print("schema up to date")


def main() -> None:
    app()
