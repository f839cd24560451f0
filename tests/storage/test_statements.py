"""Migration scripts split into statements: comments and quoted strings may hold ``;``."""

from __future__ import annotations

import doctest

from headwater.storage import migrations
from headwater.storage.migrations import statements


def test_comments_and_quotes_do_not_split_statements() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (
        x text DEFAULT 'a;b', -- another; one
        y text DEFAULT 'it''s'
    );
    CREATE INDEX t_x ON t (x);  -- trailing
    """
    assert statements(script) == [
        "CREATE TABLE t (\n        x text DEFAULT 'a;b', \n        y text DEFAULT 'it''s'\n    )",
        "CREATE INDEX t_x ON t (x)",
    ]


def test_a_double_dash_inside_quotes_is_not_a_comment() -> None:
    assert statements("SELECT '--x;y'; SELECT 1") == ["SELECT '--x;y'", "SELECT 1"]


def test_docstring_example() -> None:
    result = doctest.testmod(migrations)
    assert result.attempted > 0
    assert result.failed == 0
