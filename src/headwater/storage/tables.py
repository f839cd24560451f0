"""The one ``MetaData`` every table is declared on, and the installation's own ``meta`` table.

Each capability declares its tables in its own ``tables`` module on :data:`metadata`
(``headwater.workspaces.tables``, ``headwater.log.tables``, ``headwater.collect.tables``...);
only that capability's store modules name them in SQL (``tests/storage/test_table_owners.py``).
Migrations (``migrations/versions``) create them, and ``tests/storage/test_declared_schema.py``
compares the declarations with a migrated database, so the two cannot drift apart.

A view is declared as a ``Table`` too, with ``info={"view": True}``: it is read like a table,
and created by its migration's ``CREATE VIEW``.
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, Table, Text

__all__ = ["VIEW", "meta", "metadata"]

metadata = MetaData()

VIEW = {"view": True}
"""``info`` of a ``Table`` that declares a view."""

# Installation-wide settings as text (the sealed secret key of destination configs).
meta = Table(
    "meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)
