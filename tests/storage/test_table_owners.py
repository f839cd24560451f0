"""Each table is named in SQL only by its owner's store modules.

The owner of a table is the package whose ``tables`` module declares it
(``headwater.profiles.tables`` declares the profile tables: ``headwater.profiles`` owns them).
Every string literal of every module under ``src/headwater`` is scanned for
``FROM|JOIN|INTO|UPDATE|TABLE <table>``, and every import of a ``tables`` module is checked;
a module that is not one of the owner's store modules (:data:`STORES`) fails the test, naming
the module and the table, unless :data:`ALLOWED` lists it with its reason.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from sqlalchemy import Table

import headwater
from headwater.storage.tables import metadata
from tests.storage.test_declared_schema import declared_tables_modules

SOURCE = Path(headwater.__file__).parent

STORES: dict[str, set[str]] = {
    "headwater.storage": set(),
    "headwater.workspaces": {"headwater.workspaces.store", "headwater.workspaces.plugins_store"},
    "headwater.access": {"headwater.access.store", "headwater.access.people_store"},
    "headwater.log": {
        "headwater.log.postgres",
        "headwater.log.partitions",
        "headwater.log.jetstream.index",
    },
    "headwater.collect": {"headwater.collect.store"},
    "headwater.hooks": {"headwater.hooks.store"},
    "headwater.profiles": {
        "headwater.profiles.store",
        "headwater.profiles.reads",
        "headwater.profiles.lookups",
        "headwater.profiles.relations",
    },
    "headwater.journeys": {
        "headwater.journeys.store",
        "headwater.journeys.instances",
        "headwater.journeys.calls",
    },
    "headwater.protocols": {"headwater.protocols.store", "headwater.protocols.records"},
    "headwater.audiences": {
        "headwater.audiences.store",
        "headwater.audiences.reads",
        "headwater.audiences.sql",
    },
    "headwater.destinations": {"headwater.destinations.store"},
    "headwater.delivery": {"headwater.delivery.store", "headwater.delivery.queue"},
    "headwater.pipeline": {"headwater.pipeline.failures"},
    "headwater.privacy": {
        "headwater.privacy.store",
        "headwater.privacy.export_store",
        "headwater.privacy.retention_store",
    },
    "headwater.pii": {"headwater.pii.store"},
    "headwater.retl": {"headwater.retl.store", "headwater.retl.state"},
    "headwater.imports": {"headwater.imports.store", "headwater.imports.erasure"},
}
"""The store modules of each owning package: the only modules that name its tables."""

_ACTIVITY = "activity, the read view of what arrived, reads collection's records; not assigned"
_ONE_TRIP = "resolves the workspace in the same statement (one round trip); not assigned"
_OWNER = "the owner's module, but not one of its stores; not assigned in issue 14"
_META = "the installation's meta table holds the sealed secret key; not assigned"

ALLOWED: dict[tuple[str, str], str] = {
    # Collection's records, read by activity (also in pyproject.toml's import contract).
    ("headwater.activity.store", "rejections"): _ACTIVITY,
    ("headwater.activity.store", "event_counts"): _ACTIVITY,
    ("headwater.activity.store", "duplicates"): _ACTIVITY,
    # What tracking plans blocked or flagged, for the live debugger's fates (read-only).
    ("headwater.activity.store", "quarantine"): _ACTIVITY,
    ("headwater.activity.store", "flagged"): _ACTIVITY,
    # The Profile API's space and identifier in one statement.
    ("headwater.profiles.reads", "workspaces"): _ONE_TRIP,
    # A principal's roles by workspace slug, with its token or session.
    ("headwater.access.store", "workspaces"): _ONE_TRIP,
    ("headwater.access.people_store", "workspaces"): _ONE_TRIP,
    # Owner modules that are not its store modules.
    ("headwater.audiences.service", "computations"): _OWNER,
    ("headwater.audiences.service", "computed_values"): _OWNER,
    ("headwater.profiles.rules", "identity_rules"): _OWNER,
    ("headwater.profiles.stage.orchestration", "identity_rules"): _OWNER,
    ("headwater.destinations.secrets", "meta"): _META,
}
"""Today's exceptions, each with its reason and the part removing it. Empty it as they go: an
entry that is no longer needed fails the test too."""


def _owners() -> dict[str, str]:
    """Table name -> the package whose ``tables`` module declares it."""
    owners: dict[str, str] = {}
    for name in declared_tables_modules():
        module = importlib.import_module(name)
        for attribute in module.__all__:
            table = getattr(module, attribute)
            if isinstance(table, Table):
                assert table.name not in owners, f"{table.name} declared twice"
                owners[table.name] = name.rsplit(".", 1)[0]
    assert set(owners) == set(metadata.tables)
    return owners


def _modules() -> list[tuple[str, ast.Module]]:
    """Every module of ``src/headwater`` but the migrations, parsed."""
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE.parent).with_suffix("")
        if "migrations" in relative.parts:
            continue
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        found.append((".".join(parts), ast.parse(path.read_text(), str(path))))
    return found


def _named(tree: ast.Module, pattern: re.Pattern[str], owners: dict[str, str]) -> set[str]:
    """The tables a module names: in SQL in its string literals, or by importing a
    ``tables`` module."""
    named: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            named.update(match.group(1) for match in pattern.finditer(node.value))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").endswith(".tables"):
            package = (node.module or "").rsplit(".", 1)[0]
            named.update(alias.name for alias in node.names if owners.get(alias.name) == package)
    return named


def _violations() -> set[tuple[str, str]]:
    owners = _owners()
    pattern = re.compile(
        r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(" + "|".join(sorted(owners)) + r")\b"
    )
    found: set[tuple[str, str]] = set()
    for module, tree in _modules():
        for table in _named(tree, pattern, owners):
            owner = owners[table]
            if module not in STORES[owner] and module != f"{owner}.tables":
                found.add((module, table))
    return found


def test_every_owner_has_its_store_modules_listed() -> None:
    assert set(_owners().values()) <= set(STORES)
    modules = {name for name, _ in _modules()}
    for stores in STORES.values():
        assert stores <= modules


def test_only_the_owners_store_modules_name_its_tables() -> None:
    owners = _owners()
    unexpected = sorted(_violations() - set(ALLOWED))
    assert unexpected == [], "\n".join(
        f"{module} names {table}, a table of {owners[table]}: use {owners[table]}'s interface"
        for module, table in unexpected
    )


def test_every_allowed_exception_is_still_needed() -> None:
    stale = sorted(set(ALLOWED) - _violations())
    assert stale == [], f"remove from ALLOWED, no longer needed: {stale}"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT id FROM workspaces WHERE slug = $1", {"workspaces"}),
        ("INSERT INTO profiles_x (id) VALUES (1)", set()),
        ("SELECT 1 FROM a JOIN governed_events g ON true", {"governed_events"}),
        ("select * from events", set()),
    ],
)
def test_the_scan_finds_tables_named_in_sql(sql: str, expected: set[str]) -> None:
    owners = _owners()
    pattern = re.compile(
        r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(" + "|".join(sorted(owners)) + r")\b"
    )
    assert _named(ast.parse(repr(sql)), pattern, owners) == expected
