"""The audience capability reads profiles through the profile capability's face
(:mod:`headwater.profiles.lookups`, :mod:`headwater.profiles.relations`): no module of
``audiences/`` names a profile table in SQL."""

from __future__ import annotations

import re
from pathlib import Path

import headwater.audiences

PROFILE_TABLES = (
    "profiles",
    "profile_events",
    "profile_merges",
    "identifiers",
    "identifier_mentions",
    "stray_mentions",
    "account_links",
    "identity_rules",
)
_NAMED = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:ONLY\s+)?(" + "|".join(PROFILE_TABLES) + r")\b",
    re.IGNORECASE,
)


def test_no_audience_module_names_a_profile_table() -> None:
    package = Path(headwater.audiences.__file__).parent
    named = {
        f"{path.name}: {match.group(0)}"
        for path in sorted(package.rglob("*.py"))
        for match in _NAMED.finditer(path.read_text())
    }
    assert not named


def test_the_check_sees_a_table_named_in_sql() -> None:
    assert _NAMED.search('"SELECT id FROM profiles WHERE id = $1"')
    assert _NAMED.search("JOIN profile_events pe ON pe.seq = e.seq")
    assert not _NAMED.search('f"SELECT p.id FROM {PROFILES} p"')
