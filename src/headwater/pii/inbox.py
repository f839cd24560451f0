"""The inbox: observed fields that look personal and that no rule classifies yet (pure).

A field is a path of the observed schema (``traits.email``, ``properties.items[].phone``),
under ``properties`` or ``traits`` (what the observed schema keeps). It looks personal when its
key's name does (:func:`~headwater.pii.detectors.personal_key`), or when a built-in detector
found a personal value there: the observed schema keeps no values, but it runs the detectors on
the first few values of each path in each batch it counts and keeps the name of the first
detector that found one (``detected``). It is classified, and leaves the inbox, when a
rule with a ``path`` names it or a rule with a ``key`` matches its key (whatever the action:
``allow`` classifies as much as ``hash``), or when someone marked it "not personal". Rules on
values or detectors alone classify no field: a value is not a field.

>>> item = ObservedPath(path="traits.email", types={"string": 3}, count=3, last_seen="t",
...                     source_ids=[1])
>>> [i.path for i in inbox([item], rules=[], dismissed=set())]
['traits.email']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import msgspec

from headwater.pii.detectors import personal_key
from headwater.pii.rules import Rule, path_matches

__all__ = ["ObservedPath", "classified", "inbox", "key_of"]


class ObservedPath(msgspec.Struct, kw_only=True):
    """A field of the observed schema, over a workspace's sources."""

    path: str
    types: dict[str, int]
    count: int
    last_seen: str | None
    source_ids: list[int]
    detected: list[str] = []
    """The built-in detectors that found a personal value at this path."""


def key_of(path: str) -> str:
    """The field's own key: ``items`` for ``properties.items[]``.

    >>> key_of("properties.items[].phone"), key_of("properties.items[]")
    ('phone', 'items')
    """
    return path.rsplit(".", 1)[-1].removesuffix("[]")


def classified(path: str, rules: Iterable[Rule]) -> bool:
    """Does a rule classify the field at ``path`` (see the module)?"""
    key = key_of(path)
    for rule in rules:
        if rule.path is not None and path_matches(rule.path, path):
            return True
        if rule.path is None and rule.key is not None and re.search(rule.key, key):
            return True
    return False


def inbox(
    observed: Sequence[ObservedPath], *, rules: Sequence[Rule], dismissed: set[str]
) -> list[ObservedPath]:
    """The fields of ``observed`` that look personal and are neither classified nor dismissed,
    in path order."""
    return sorted(
        (
            item
            for item in observed
            if item.path not in dismissed
            and (bool(item.detected) or personal_key(key_of(item.path)))
            and not classified(item.path, rules)
        ),
        key=lambda item: item.path,
    )
