"""What every store's erasure (``forget_*``) shares: the rows a statement removed, and the SQL
test for a JSON document that holds one of a person's values anywhere in it.

>>> removed("DELETE 3")
3
>>> holds_any("payload", "$2")   # true when any string or number in payload is one of $2
"""

from __future__ import annotations

__all__ = ["holds_any", "removed"]


def removed(status: str) -> int:
    """The row count of an asyncpg command status (``DELETE 3``, ``UPDATE 0``)."""
    return int(status.rsplit(" ", 1)[-1])


def holds_any(document: str, values: str) -> str:
    """SQL, true when a scalar anywhere in the JSON ``document`` (an expression) equals one of
    ``values`` (an expression of type ``text[]``, lower case) when lower-cased. For records
    that are not linked to a profile (rejections, quarantined and dead-lettered messages):
    each row is read whole, so callers keep it to one workspace's or destination's rows."""
    return (
        f"EXISTS (SELECT 1 FROM jsonb_path_query({document}, 'strict $.**') AS found(v)"
        f" WHERE jsonb_typeof(found.v) IN ('string', 'number')"
        f" AND lower(found.v #>> ARRAY[]::text[]) = ANY({values}))"
    )
