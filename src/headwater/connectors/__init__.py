"""The connector catalog: the interface every destination plugin implements, and the registry
that finds each one by its stable ``kind`` name (Python entry points, group
``headwater.connectors``), importing a connector's module only when its kind is first used.

No database here: a connector gets a typed config and an HTTP client, and answers a
:class:`SendResult` (for a send, or a person's deletion: :class:`DeletionSubject`). What other
packages may use: the interface and result types, and the
registry (:func:`registered`, :func:`lookup`, :func:`load_all`). One module per connector
(``webhook.py``, ``mixpanel.py``, ...) and ``_common.py`` (their shared helpers) are the
catalog's own.
"""

from headwater.connectors.base import (
    Connector,
    DeletionSubject,
    Event,
    Exchange,
    Outcome,
    SendResult,
)
from headwater.connectors.registry import GROUP, load_all, lookup, registered

__all__ = [
    "GROUP",
    "Connector",
    "DeletionSubject",
    "Event",
    "Exchange",
    "Outcome",
    "SendResult",
    "load_all",
    "lookup",
    "registered",
]
