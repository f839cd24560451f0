"""The connector registry: every kind registered by entry point, each module imported only when
its kind is first used, an unknown kind answered with the same error as before the registry
was lazy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from headwater import connectors, destinations
from headwater.errors import BadRequest
from headwater.settings import Settings

KINDS = (
    "amplitude",
    "braze",
    "customerio",
    "google_analytics_4",
    "hubspot",
    "intercom",
    "mailchimp",
    "mixpanel",
    "postgres-warehouse",
    "segment",
    "slack",
    "webhook",
)

_LOADED = """
import json, sys
import {module}
from headwater.connectors import registered
registered()
print(json.dumps(sorted(m for m in sys.modules if m.startswith("headwater.connectors."))))
"""


def _connector_modules_after(module: str) -> list[str]:
    """The ``headwater.connectors.*`` modules imported by a fresh interpreter that imports
    ``module`` and lists the registered kinds."""
    done = subprocess.run(
        [sys.executable, "-c", _LOADED.format(module=module)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


@pytest.mark.parametrize(
    "module", ["headwater.connectors", "headwater.destinations", "headwater.routing"]
)
def test_importing_the_registry_or_its_users_imports_no_connector(module: str) -> None:
    assert _connector_modules_after(module) == [
        "headwater.connectors.base",
        "headwater.connectors.registry",
    ]


def test_every_kind_is_registered_under_its_stable_name() -> None:
    assert connectors.registered() == KINDS
    for kind in KINDS:
        connector = connectors.lookup(kind)
        assert connector is not None
        assert connector.kind == kind
    assert connectors.lookup("nope") is None


def test_the_catalog_lists_every_kind_with_its_config_schema() -> None:
    listed = destinations.kinds()
    assert [entry["kind"] for entry in listed] == list(KINDS)
    assert all(entry["config_schema"]["properties"] for entry in listed)
    titles = {entry["kind"]: entry["title"] for entry in listed}
    assert titles["customerio"] == "Customer.io"
    assert titles["google_analytics_4"] == "Google Analytics 4"
    assert len(set(titles.values())) == len(KINDS)  # each its own name


async def test_an_unknown_kind_is_refused_with_the_kinds_there_are() -> None:
    engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")  # never reached
    try:
        with pytest.raises(BadRequest) as refused:
            await destinations.create_destination(
                engine,
                Settings(),
                workspace="default",
                name="pigeon",
                kind="carrier-pigeon",
                config={},
            )
    finally:
        await engine.dispose()
    assert refused.value.code == "unknown_kind"
    assert refused.value.message == "no connector 'carrier-pigeon'"
    assert refused.value.details == {"kinds": list(KINDS)}
