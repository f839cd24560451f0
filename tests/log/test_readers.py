"""Who reads the governed history relation: only the set-based SQL named in
:mod:`headwater.log.relation`. Every other reader goes through the
:class:`~headwater.log.EventLog`, so that another implementation of the log (NATS JetStream)
can replace the table. (That only the PostgreSQL log names its ``events`` table is the table
owners' check, ``tests/storage/test_table_owners.py``.)"""

from __future__ import annotations

import re
from pathlib import Path

import headwater

_SOURCE = Path(headwater.__file__).parent

_RELATION = re.compile(r"\bGOVERNED_EVENTS\b|\bFROM\s+governed_events\b|\bJOIN\s+governed_events\b")

_RELATION_READERS = {
    "log/__init__.py",
    "log/relation.py",
    "audiences/sql.py",  # the batch compiler: conditions over every profile's events
    "audiences/reads.py",  # the real-time evaluator: the touched profiles' events at once
    "profiles/store.py",  # the profile rebuild: a component's events at once
}


def _modules() -> dict[str, str]:
    return {
        path.relative_to(_SOURCE).as_posix(): path.read_text()
        for path in _SOURCE.rglob("*.py")
        if "migrations" not in path.parts
    }


def test_only_the_set_based_readers_use_the_governed_relation() -> None:
    naming = {name for name, text in _modules().items() if _RELATION.search(text)}
    assert naming <= _RELATION_READERS, naming - _RELATION_READERS
