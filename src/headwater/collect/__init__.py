"""Collection: the tracking API's service (parse, normalise, dedupe, group commit), and the
suppressions it enforces (privacy adds and removes them through ``suppress`` and
``unsuppress``)."""

from headwater.collect.committer import CommitResult
from headwater.collect.service import Collector, TrackingRequest
from headwater.collect.store import (
    SUPPRESSIONS_CHANNEL,
    forget_records,
    suppress,
    suppression_page,
    unsuppress,
    unsuppress_regulation,
)
from headwater.collect.suppressions import Suppressions
from headwater.collect.tables import REJECTION_DAYS

__all__ = [
    "REJECTION_DAYS",
    "SUPPRESSIONS_CHANNEL",
    "Collector",
    "CommitResult",
    "Suppressions",
    "TrackingRequest",
    "forget_records",
    "suppress",
    "suppression_page",
    "unsuppress",
    "unsuppress_regulation",
]
