"""Alembic migrations, written as explicit SQL."""

from alembic import op

__all__ = ["execute_script", "statements"]


def execute_script(script: str) -> None:
    """Run each statement of ``script`` (asyncpg prepares one at a time); see :func:`statements`."""
    for statement in statements(script):
        op.execute(statement)


def statements(script: str) -> list[str]:
    """The ``;``-separated statements of ``script``, without ``--`` comments, so a ``;`` in a
    comment or in a quoted string does not split a statement. (Dollar-quoted bodies are not
    understood: migrations do not define functions.)

    >>> statements("CREATE TABLE t (x text DEFAULT ';'); -- a; b\\nDROP TABLE u;")
    ["CREATE TABLE t (x text DEFAULT ';')", 'DROP TABLE u']
    """
    found: list[str] = []
    current: list[str] = []
    quoted = False
    index = 0
    while index < len(script):
        char = script[index]
        if char == "'":
            quoted = not quoted
        elif not quoted and script.startswith("--", index):
            end = script.find("\n", index)
            index = len(script) if end < 0 else end
            continue
        elif not quoted and char == ";":
            found.append("".join(current))
            current = []
            index += 1
            continue
        current.append(char)
        index += 1
    found.append("".join(current))
    return [statement.strip() for statement in found if statement.strip()]
