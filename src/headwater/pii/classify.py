"""A workspace's masking classification: the default personal keys plus its ``mask`` rules
(pure; the management API's masking asks it, see ``headwater.api.masking``).

Masking works on keys: a ``mask`` rule's ``path`` names its last key (``properties.plan_code``
masks ``plan_code`` wherever it appears in an answer), its ``key`` pattern is searched in every
key.

>>> classifier = RuleClassifier.of([Rule(id=1, path="properties.plan_code", action="mask")])
>>> classifier.personal("plan_code"), classifier.personal("email"), classifier.personal("plan")
(True, True, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from headwater.access.personal import DEFAULT, PersonalKeys, words
from headwater.pii.inbox import key_of
from headwater.pii.rules import Rule

__all__ = ["RuleClassifier"]


@dataclass(frozen=True, slots=True)
class RuleClassifier:
    """The default classification widened by a workspace's ``mask`` rules."""

    base: PersonalKeys
    keys: frozenset[str]
    """Keys (in :func:`words` form) of mask rules' paths."""
    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, rules: Iterable[Rule], base: PersonalKeys = DEFAULT) -> RuleClassifier:
        masks = [r for r in rules if r.action == "mask" and r.enabled]
        return cls(
            base,
            frozenset(words(key_of(r.path)) for r in masks if r.path and r.key is None),
            tuple(re.compile(r.key) for r in masks if r.key is not None),
        )

    def personal(self, key: str, *, trait: bool = False) -> bool:
        if self.base.personal(key, trait=trait):
            return True
        if self.keys and words(key) in self.keys:
            return True
        return any(p.search(key) for p in self.patterns)

    def listed(self) -> dict[str, list[str]]:
        """The classification as the API shows it (the mask rules' keys among ``anywhere``)."""
        listed = self.base.listed()
        listed["anywhere"] = sorted(set(listed["anywhere"]) | self.keys)
        return listed
