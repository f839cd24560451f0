"""Consent on the profile: the newest consent preferences (``context.consent
.categoryPreferences``, Segment's consent object) seen on any of a profile's events, Segment's
``Segment Consent Preference Updated`` track event included (it carries the same object).

An event's preferences replace the stored ones whole when the event is newer in canonical
order ``(timestamp, messageId)``: a late, older event does not overwrite a newer choice, and a
category the newer event leaves out is no longer consented. An event without a consent object
(or with no ``categoryPreferences``) leaves the stored choice as it is. A category counts as
consented only for the value ``true``. When profiles merge, the newest choice wins.

The stored form is ``{"c": {category: bool}, "t": timestamp, "m": message id}``:

>>> from datetime import datetime, timezone
>>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> stored = newer(None, {"Marketing": True}, t, "m1")
>>> stored["c"], stored["m"]
({'Marketing': True}, 'm1')
>>> newer(stored, {"Marketing": False}, datetime(2025, 1, 1, tzinfo=timezone.utc), "m0") is stored
True
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from headwater.spec import Message, parse_timestamp

__all__ = ["categories_of", "newer", "newest", "preferences_of"]


def preferences_of(message: Message) -> dict[str, bool] | None:
    """The consent preferences ``message`` carries, category -> consented; None when it
    carries none (no consent object, or no ``categoryPreferences`` object)."""
    consent = message.context.consent
    preferences = consent.category_preferences if consent is not None else None
    if preferences is None:
        return None
    return {str(category): value is True for category, value in preferences.items()}


def _key(stored: dict[str, Any]) -> tuple[datetime, str]:
    return parse_timestamp(stored["t"]), stored["m"]


def newer(
    stored: dict[str, Any] | None,
    preferences: dict[str, bool],
    timestamp: datetime,
    message_id: str,
) -> dict[str, Any]:
    """The stored consent after an event ``(timestamp, message_id)`` carrying
    ``preferences``: the event's when it is newer than ``stored``, else ``stored``."""
    if stored is not None and _key(stored) >= (timestamp, message_id):
        return stored
    return {"c": preferences, "t": timestamp.isoformat(), "m": message_id}


def newest(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """The newer of two stored consents (merging profiles: the newest choice wins)."""
    if a is None or b is None:
        return a if b is None else b
    return a if _key(a) >= _key(b) else b


def categories_of(stored: dict[str, Any] | None) -> dict[str, bool]:
    """Category -> consented, from a stored consent (empty before any)."""
    return dict(stored["c"]) if stored is not None else {}
