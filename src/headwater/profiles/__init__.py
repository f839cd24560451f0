"""Profiles: the identity graph's storage, the profile stage of the processor, and reads.

Other capabilities read profiles through :mod:`~headwater.profiles.lookups` (functions) and,
in SQL they compose, :mod:`~headwater.profiles.relations`; the tables are this package's."""

from headwater.profiles import lookups, relations
from headwater.profiles.rules import get_rules, set_rules
from headwater.profiles.service import (
    Collection,
    ComputedTraits,
    detail,
    events,
    external_ids,
    links,
    metadata,
    search,
    timeline_page,
    traits,
)
from headwater.profiles.stage import ProfileStage
from headwater.profiles.store import forget_person, lock_identifiers, person_events
from headwater.profiles.views import (
    EventsPage,
    ExternalIdsPage,
    IdentityRulesView,
    LinksPage,
    MetadataView,
    ProfileDetailView,
    ProfileRefView,
    ProfileTimelinePage,
    TraitsPage,
)

__all__ = [
    "Collection",
    "ComputedTraits",
    "EventsPage",
    "ExternalIdsPage",
    "IdentityRulesView",
    "LinksPage",
    "MetadataView",
    "ProfileDetailView",
    "ProfileRefView",
    "ProfileStage",
    "ProfileTimelinePage",
    "TraitsPage",
    "detail",
    "events",
    "external_ids",
    "forget_person",
    "get_rules",
    "links",
    "lock_identifiers",
    "lookups",
    "metadata",
    "person_events",
    "relations",
    "search",
    "set_rules",
    "timeline_page",
    "traits",
]
