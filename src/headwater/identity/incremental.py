"""Events in arrival order, with the replay rule that keeps the graph order-independent.

The rule, which a store mirrors: an event newer than everything it touches is applied on top
of the graph (the common case). An event *older* than :meth:`Graph.newest_key` of its
mentioned identifiers (the newest event that mentioned one of them, linked or dropped, or was
applied to a profile owning one) is not: its component (:func:`component_events`) is replayed
through :func:`resolve` in canonical order and replaces the component's profiles. Either way
the graph ends equal to ``resolve(all events so far)``: the same profiles, ids and redirects.

So a store keeps, besides each identifier's owner: the key of the newest event that mentioned
each identifier (dropped ones too), and each profile's ``last_key``. Owners alone are not
enough: an identifier dropped by a later event still decides that event's fate when an older
event links it first (``test_order.py`` checks the rule, and fails without that part).

Why it is enough: resolving an event reads only the profiles owning the identifiers it
mentions, and every later event whose result could change when an older one is slipped in
before it shares an identifier or a profile with it, which :meth:`Graph.newest_key` sees.

    >>> from datetime import UTC, datetime, timedelta
    >>> from headwater.identity.model import Identifier
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> a1 = Identifier("anonymous_id", "a1")
    >>> graph = IncrementalGraph(Rules.default(), lambda event: "p-" + event.message_id)
    >>> late = IdentityEvent("late", t + timedelta(hours=1), (Identifier("user_id", "u2"), a1))
    >>> graph.add(late).created
    True
    >>> early = IdentityEvent("early", t, (Identifier("user_id", "u1"), a1))
    >>> graph.add(early).replayed  # in canonical order a1 is u1's, and u2 goes without it
    True
    >>> graph.graph.owner(a1), graph.graph.profile_of("late")
    ('p-early', 'p-late')
"""

from __future__ import annotations

from headwater.identity.graph import Graph, NewId, Outcome, component_events, resolve
from headwater.identity.model import IdentityEvent, Rules

__all__ = ["IncrementalGraph"]


class IncrementalGraph:
    """A :class:`Graph` fed one event at a time, in any order; keeps every event it saw.

    ``retired`` maps profile ids that a replay made vanish (their creating event now lands in
    an older profile) to that event's profile, so old ids keep resolving (:meth:`resolve_id`).
    """

    def __init__(self, rules: Rules, new_id: NewId) -> None:
        self.rules = rules
        self.new_id = new_id
        self.graph = Graph()
        self.events: dict[str, IdentityEvent] = {}
        self.retired: dict[str, str] = {}
        self.replays = 0

    def add(self, event: IdentityEvent) -> Outcome:
        """Apply one event, replaying its component when it arrives late; a message id seen
        before changes nothing."""
        if event.message_id in self.events:
            return Outcome(self.graph.profile_of(event.message_id))
        self.events[event.message_id] = event
        newest = self.graph.newest_key(event.mentions)
        if newest is None or newest < event.key:
            return self.graph.apply(event, self.rules, self.new_id)
        self._replay(event)
        return Outcome(self.graph.profile_of(event.message_id), replayed=True)

    def resolve_id(self, profile_id: str) -> str | None:
        """The live profile an id is, was merged into, or was retired into."""
        seen: set[str] = set()
        current: str | None = profile_id
        while current is not None and current not in seen:
            seen.add(current)
            live = self.graph.resolve_id(current)
            if live is not None:
                return live
            current = self.retired.get(current)
        return None

    def _replay(self, event: IdentityEvent) -> None:
        component = component_events(self.events.values(), set(event.mentions))
        creators = {self.new_id(e): e.message_id for e in component}
        existed = {pid for pid in creators if self.graph.resolve_id(pid) is not None}
        rebuilt = resolve(component, self.rules, self.new_id)
        self.graph.replace((e.message_id for e in component), rebuilt)
        for pid in existed:
            if self.graph.resolve_id(pid) is None:
                target = self.graph.profile_of(creators[pid])
                if target is not None:
                    self.retired[pid] = target
        self.replays += 1
