"""Identity resolution as pure rules: which identifiers an event carries, which profile it
belongs to, and how traits of one person merge. No I/O: the store and the processor build on
these.

- :mod:`~headwater.identity.model`: identifiers, a workspace's :class:`Rules`, identity events;
- :mod:`~headwater.identity.extract`: identifiers from a normalised Segment payload;
- :mod:`~headwater.identity.graph`: the in-memory graph, Segment's matching algorithm, and
  :func:`resolve` in canonical order;
- :mod:`~headwater.identity.outcome`: what applying an event reports; a profile's state;
- :mod:`~headwater.identity.incremental`: arrival order with the replay rule;
- :mod:`~headwater.identity.traits`: last-write-wins traits.
"""

from headwater.identity.extract import account_traits, extract, identity_event, user_traits
from headwater.identity.graph import (
    Dropped,
    Graph,
    Merge,
    NewId,
    Outcome,
    ProfileState,
    component_events,
    resolve,
)
from headwater.identity.incremental import IncrementalGraph
from headwater.identity.model import (
    DEFAULT_BLOCKED,
    STANDARD_TYPES,
    EventKey,
    Identifier,
    IdentityEvent,
    Limit,
    Rules,
)
from headwater.identity.traits import TraitValue, merge_profiles, merge_traits, plain

__all__ = [
    "DEFAULT_BLOCKED",
    "STANDARD_TYPES",
    "Dropped",
    "EventKey",
    "Graph",
    "Identifier",
    "IdentityEvent",
    "IncrementalGraph",
    "Limit",
    "Merge",
    "NewId",
    "Outcome",
    "ProfileState",
    "Rules",
    "TraitValue",
    "account_traits",
    "component_events",
    "extract",
    "identity_event",
    "merge_profiles",
    "merge_traits",
    "plain",
    "resolve",
    "user_traits",
]
