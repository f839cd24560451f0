"""Collection: the tracking API's service (parse, normalise, dedupe, group commit)."""

from headwater.collect.committer import CommitResult
from headwater.collect.service import Collector, TrackingRequest
from headwater.collect.store import forget_records

__all__ = ["Collector", "CommitResult", "TrackingRequest", "forget_records"]
