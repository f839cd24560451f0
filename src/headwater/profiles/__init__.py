"""Profiles: the identity graph's storage, the profile stage of the processor, and reads."""

from headwater.profiles.service import (
    Collection,
    detail,
    events,
    external_ids,
    links,
    metadata,
    search,
    traits,
)

__all__ = [
    "Collection",
    "detail",
    "events",
    "external_ids",
    "links",
    "metadata",
    "search",
    "traits",
]
