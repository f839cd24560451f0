"""Collection: the tracking API's service (parse, normalise, dedupe, group commit)."""

from headwater.collect.committer import CommitResult
from headwater.collect.service import Collector, TrackingRequest
from headwater.collect.store import (  # retention: each owner forgets its own rows
    count_rejections_before,
    forget_rejections_before,
)

__all__ = [
    "Collector",
    "CommitResult",
    "TrackingRequest",
    "count_rejections_before",
    "forget_rejections_before",
]
