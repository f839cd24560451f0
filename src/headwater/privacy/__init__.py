"""Privacy: retention windows per workspace, source and store, enforced by dropping whole days
of the event log and deleting the smaller stores' rows by time (docs/privacy.md)."""

from headwater.privacy.service import (
    WindowIn,
    apply_retention,
    get_windows,
    maintain,
    retention_plan,
    set_windows,
)
from headwater.privacy.task import RetentionTask
from headwater.privacy.views import (
    RetentionItemView,
    RetentionPlanView,
    RetentionView,
    RetentionWindowView,
)
from headwater.privacy.windows import Store, Windows

__all__ = [
    "RetentionItemView",
    "RetentionPlanView",
    "RetentionTask",
    "RetentionView",
    "RetentionWindowView",
    "Store",
    "WindowIn",
    "Windows",
    "apply_retention",
    "get_windows",
    "maintain",
    "retention_plan",
    "set_windows",
]
