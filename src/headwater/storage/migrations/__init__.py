"""Alembic migrations, written as explicit SQL."""

from alembic import op

__all__ = ["execute_script"]


def execute_script(script: str) -> None:
    """Run each ``;``-separated statement of ``script`` (asyncpg prepares one at a time)."""
    for statement in script.split(";"):
        if statement.strip():
            op.execute(statement)
