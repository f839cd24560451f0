"""Collection: the tracking API's service (parse, normalise, dedupe, group commit), and the
suppressions it enforces (privacy adds and removes them through ``suppress`` and
``unsuppress``)."""

from headwater.collect.committer import CommitResult
from headwater.collect.service import Collector, TrackingRequest
from headwater.collect.store import (
    SUPPRESSIONS_CHANNEL,
    count_rejections_before,
    forget_records,
    forget_rejections_before,
    suppress,
    suppression_page,
    unsuppress,
    unsuppress_regulation,
)
from headwater.collect.suppressions import Suppressions

__all__ = [
    "SUPPRESSIONS_CHANNEL",
    "Collector",
    "CommitResult",
    "Suppressions",
    "TrackingRequest",
    "count_rejections_before",
    "forget_records",
    "forget_rejections_before",
    "suppress",
    "suppression_page",
    "unsuppress",
    "unsuppress_regulation",
]
