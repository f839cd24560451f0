"""PII rules: built-in detectors and a workspace's rules on fields (allow, mask, hash,
redact, drop, block), applied at collection and in routing, the masking classification of the
management API, the count of their actions (``headwater_pii_actions_total``), and the inbox of
observed fields that look personal (docs/privacy.md).

What other packages may use: the rules and their application (collection, routing), the
cache of compiled rules (:class:`RuleBook`, :func:`load`), the count of their actions
(:class:`PiiMetrics`, :class:`Tally`), and the management operations.
"""

from headwater.pii.cache import Applicable, RuleBook, Snapshot, load
from headwater.pii.classify import RuleClassifier
from headwater.pii.detectors import DETECTORS, detect, personal_key
from headwater.pii.inbox import ObservedPath
from headwater.pii.metrics import PiiMetrics, Tally
from headwater.pii.rules import IDENTIFIERS, REDACTED, Outcome, Rule, apply, compile_rules
from headwater.pii.service import (
    classify,
    create_rule,
    delete_rule,
    dismiss,
    get_rule,
    list_inbox,
    list_rules,
    try_rules,
    update_rule,
)
from headwater.pii.views import (
    DismissedView,
    InboxItemView,
    RuleDeletedView,
    RuleView,
    TestView,
)

__all__ = [
    "DETECTORS",
    "IDENTIFIERS",
    "REDACTED",
    "Applicable",
    "DismissedView",
    "InboxItemView",
    "ObservedPath",
    "Outcome",
    "PiiMetrics",
    "Rule",
    "RuleBook",
    "RuleClassifier",
    "RuleDeletedView",
    "RuleView",
    "Snapshot",
    "Tally",
    "TestView",
    "apply",
    "classify",
    "compile_rules",
    "create_rule",
    "delete_rule",
    "detect",
    "dismiss",
    "get_rule",
    "list_inbox",
    "list_rules",
    "load",
    "personal_key",
    "try_rules",
    "update_rule",
]
