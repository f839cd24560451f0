"""Alembic environment: runs on the connection that :func:`headwater.storage.migrate` passes."""

from __future__ import annotations

from alembic import context

from headwater.storage.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
