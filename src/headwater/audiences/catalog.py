"""A workspace's computations as a whole: parsed definitions, what each depends on, the order
to compute them in, and which can be kept up to date in real time. Pure, no I/O.

>>> plan = Catalog.of(stored_computations)
>>> [c.key for c in plan.ordered()]          # computed traits, then audiences, dependencies first
['orders_90d', 'buyers', 'loyal_buyers']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from headwater.audiences.conditions import (
    AudienceDefinition,
    AudienceRef,
    DefinitionError,
    ListDefinition,
    TraitCondition,
    UsersCondition,
    is_list,
    parse_audience,
    parse_list,
    walk,
)
from headwater.audiences.sql import Refs
from headwater.audiences.store import Computation
from headwater.audiences.traits import TraitDefinition, parse_trait
from headwater.audiences.values import split_path

__all__ = ["Catalog", "Parsed", "is_realtime", "parse"]


@dataclass(frozen=True)
class Parsed:
    """A computation with its parsed definition (``audience``, ``listed`` for a list
    audience, or ``trait``)."""

    computation: Computation
    audience: AudienceDefinition | None = None
    trait: TraitDefinition | None = None
    listed: ListDefinition | None = None

    @property
    def is_audience(self) -> bool:
        """An audience, computed or a list (what an ``audience`` condition may name)."""
        return self.trait is None

    @property
    def key(self) -> str:
        return self.computation.key

    @property
    def id(self) -> int:
        return self.computation.id


Definition = AudienceDefinition | ListDefinition | TraitDefinition


def parse(kind: str, definition: Any) -> Definition:
    """Parse a definition of ``kind`` (``audience``, a list audience's included, or
    ``trait``); raise DefinitionError."""
    if kind == "trait":
        return parse_trait(definition)
    return parse_list(definition) if is_list(definition) else parse_audience(definition)


def is_realtime(subject: str, definition: Definition) -> bool:
    """Computed traits and user audiences are updated on each event (and by the batch
    recompute, for time windows); account audiences depend on many profiles at once and are
    computed in batch only; list audiences are never computed."""
    if isinstance(definition, TraitDefinition):
        return True
    if isinstance(definition, ListDefinition):
        return False
    return subject == "user" and not any(
        isinstance(node, UsersCondition) for node in walk(definition.condition)
    )


def _references(definition: AudienceDefinition) -> tuple[set[str], set[str]]:
    """Audience keys and trait names (first path segment) a definition mentions."""
    audiences, traits = set(), set()
    for node in walk(definition.condition):
        if isinstance(node, AudienceRef):
            audiences.add(node.audience)
        elif isinstance(node, TraitCondition):
            traits.add(split_path(node.trait)[0])
    return audiences, traits


class Catalog:
    """The parsed computations of one workspace."""

    def __init__(self, parsed: Sequence[Parsed]) -> None:
        self.parsed = {p.key: p for p in parsed}

    @classmethod
    def of(cls, computations: Iterable[Computation]) -> Catalog:
        """Parse stored computations (stored definitions were validated when written)."""
        found = []
        for c in computations:
            definition = parse(c.kind, c.definition)
            if isinstance(definition, AudienceDefinition):
                found.append(Parsed(c, audience=definition))
            elif isinstance(definition, ListDefinition):
                found.append(Parsed(c, listed=definition))
            else:
                found.append(Parsed(c, trait=definition))
        return cls(found)

    def refs(self) -> Refs:
        return Refs(
            audiences={k: p.id for k, p in self.parsed.items() if p.is_audience},
            traits={k: p.id for k, p in self.parsed.items() if p.trait is not None},
        )

    def check(self, key: str, subject: str, definition: AudienceDefinition) -> None:
        """The audiences ``definition`` names exist, have the same subject, and do not lead
        back to ``key``; raise DefinitionError otherwise."""
        audiences, _ = _references(definition)
        for name in sorted(audiences):
            other = self.parsed.get(name)
            if other is None or not other.is_audience:
                raise DefinitionError(
                    [{"path": "condition", "message": f"no audience with key {name}"}]
                )
            if other.computation.subject != subject:
                raise DefinitionError(
                    [{"path": "condition", "message": f"audience {name} is not of {subject}s"}]
                )
        if key in self._reachable(audiences):
            raise DefinitionError(
                [{"path": "condition", "message": f"audience {key} would depend on itself"}]
            )

    def dependents(self, key: str) -> list[str]:
        """The audiences that name ``key`` (an audience or a computed trait)."""
        return sorted(
            p.key
            for p in self.parsed.values()
            if p.audience is not None
            and p.key != key
            and key in set.union(*_references(p.audience))
        )

    def _reachable(self, start: set[str]) -> set[str]:
        seen: set[str] = set()
        frontier = list(start)
        while frontier:
            key = frontier.pop()
            if key in seen:
                continue
            seen.add(key)
            found = self.parsed.get(key)
            if found is not None and found.audience is not None:
                frontier += _references(found.audience)[0]
        return seen

    def levels(self) -> list[list[Parsed]]:
        """Computations in rounds that may run side by side: computed traits and list
        audiences first, then each audience one round after the latest audience or computed
        trait it names."""
        level: dict[str, int] = {}
        for p in self.ordered():
            if p.audience is None:
                level[p.key] = 0
                continue
            audiences, traits = _references(p.audience)
            named = [level[k] for k in audiences | traits if k in level]
            level[p.key] = 1 + max(named, default=0)
        rounds: list[list[Parsed]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
        for p in self.ordered():
            rounds[level[p.key]].append(p)
        return [r for r in rounds if r]

    def ordered(self) -> list[Parsed]:
        """Computed traits first (by key), then list audiences (by key), then audiences, each
        after those it names."""
        first = [p for _, p in sorted(self.parsed.items()) if p.trait is not None]
        first += [p for _, p in sorted(self.parsed.items()) if p.listed is not None]
        done: list[Parsed] = []
        placed: set[str] = set()

        def place(p: Parsed) -> None:
            if p.key in placed:
                return
            placed.add(p.key)
            assert p.audience is not None
            for name in sorted(_references(p.audience)[0]):
                other = self.parsed.get(name)
                if other is not None and other.audience is not None:
                    place(other)
            done.append(p)

        for _, p in sorted(self.parsed.items()):
            if p.audience is not None:
                place(p)
        return first + done
