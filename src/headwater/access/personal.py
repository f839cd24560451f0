"""Which keys hold personal values, and masking them in a JSON document: pure rules, no I/O.

A principal without ``pii:read`` in a workspace sees every value classified as personal
replaced by :data:`MASK` (``docs/access.md``, "Personal values and pii:read"). A key is
compared by its words, whatever its case and separators (``first_name``, ``firstName`` and
``FirstName`` are the words ``first name``), and is personal:

- anywhere in the document, when it is one of :attr:`PersonalKeys.anywhere` (``email``,
  ``phone``, ``ip``...) or its last word is one of :attr:`PersonalKeys.last_words`
  (``userEmail``, ``billing_phone``);
- directly inside a ``traits`` object only, when it is one of :attr:`PersonalKeys.in_traits`
  (``name``: a person's name among identify traits, a product's among track properties).

The value of a personal key is masked whole (every scalar inside an object or list: an
``address``'s parts), but for an object with a ``value`` member, a value with its metadata (a
profile's trait with its update time), whose ``value`` alone is masked; ``null`` stays ``null``.

An identifier pair (an object with ``type``, ``id_type`` or ``idType`` naming a personal kind,
like ``{"type": "email", "value": ...}`` or ``{"id": ..., "type": "email"}``) has its ``value``
or ``id`` masked; a value beside its key (``{"key": "email", "value": ..., "previous": ...}``)
its ``value`` and ``previous``. A string under one of
:data:`RAW_TEXT` keys (a request as received, a body sent to a destination) is raw text: when
it is JSON it is masked the same way and encoded again, otherwise it is withheld whole.
Last, a masked value (of 4 characters or more) is replaced wherever another string of the same
record quotes it: an error quoting a destination's answer, a ``userId`` that is an email (a
record is the document, or each object in a list: an event of a page, a dead letter).

>>> mask({"traits": {"email": "a@b.c", "plan": "pro", "name": "Ana"}, "name": "Signed Up"})
{'traits': {'email': '[masked]', 'plan': 'pro', 'name': '[masked]'}, 'name': 'Signed Up'}
>>> DEFAULT.personal("E-Mail"), DEFAULT.personal("userId")
(True, False)

:class:`Classifier` is the interface a workspace's own rules (PII detectors, per-workspace
keys) implement; :data:`DEFAULT` is the classification every workspace has now.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Protocol

import msgspec

__all__ = [
    "DEFAULT",
    "MASK",
    "RAW_TEXT",
    "Classifier",
    "PersonalKeys",
    "mask",
    "words",
]

MASK: Final = "[masked]"
"""What a personal value reads as without ``pii:read``."""

RAW_TEXT: Final = frozenset({"payload", "request_body", "response_body"})
"""Keys whose string values are raw text that may hold personal values (a rejected request's
excerpt, a destination exchange's bodies)."""

_WORD: Final = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_PAIRS: Final = (
    (("type", "id_type", "idType"), ("value", "id")),
    (("key", "trait"), ("value", "previous")),
)
"""(keys naming a kind, keys holding its value): an identifier (``{"type": "email", "id": ...}``)
or a trait's value beside its key (``{"key": "email", "value": ..., "previous": ...}``)."""


@lru_cache(maxsize=4096)
def words(key: str) -> str:
    """``key``'s words in lower case, joined without separators: the form keys are compared in.

    >>> words("first_name"), words("FirstName"), words("E-Mail"), words("IPAddress")
    ('firstname', 'firstname', 'email', 'ipaddress')
    """
    return "".join(w.lower() for w in _WORD.findall(key))


@lru_cache(maxsize=4096)
def _last_word(key: str) -> str:
    found = _WORD.findall(key)
    return found[-1].lower() if found else ""


class Classifier(Protocol):
    """Decides which keys hold personal values (the default, or a workspace's own rules)."""

    def personal(self, key: str, *, trait: bool = False) -> bool:
        """Is the value under ``key`` personal (``trait``: ``key`` is directly inside a
        ``traits`` object)? Also asked of an identifier's kind (``email`` in
        ``{"type": "email", "value": ...}``)."""
        ...


@dataclass(frozen=True, slots=True)
class PersonalKeys:
    """A classification by key words (each entry in :func:`words` form)."""

    anywhere: frozenset[str]
    in_traits: frozenset[str] = frozenset()
    last_words: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        anywhere: Iterable[str],
        in_traits: Iterable[str] = (),
        last_words: Iterable[str] = (),
    ) -> PersonalKeys:
        """Keys written in any case and separators (``first_name``), normalised."""
        return cls(
            frozenset(map(words, anywhere)),
            frozenset(map(words, in_traits)),
            frozenset(map(words, last_words)),
        )

    def personal(self, key: str, *, trait: bool = False) -> bool:
        return _personal(self, key, trait)

    def listed(self) -> dict[str, list[str]]:
        """The classification as the API shows it (sorted lists of normalised keys)."""
        return {
            "anywhere": sorted(self.anywhere),
            "in_traits": sorted(self.in_traits),
            "last_words": sorted(self.last_words),
        }


@lru_cache(maxsize=8192)
def _personal(keys: PersonalKeys, key: str, trait: bool) -> bool:
    normal = words(key)
    return (
        normal in keys.anywhere
        or (trait and normal in keys.in_traits)
        or (bool(keys.last_words) and _last_word(key) in keys.last_words)
    )


DEFAULT: Final = PersonalKeys.of(
    anywhere=[
        "email",
        "email_address",
        "phone",
        "phone_number",
        "first_name",
        "last_name",
        "middle_name",
        "full_name",
        "username",
        "birthday",
        "date_of_birth",
        "address",
        "street",
        "postal_code",
        "zip_code",
        "ip",
        "ip_address",
        "latitude",
        "longitude",
    ],
    in_traits=["name", "avatar"],
    last_words=["email", "phone"],
)
"""Segment's reserved identify traits that identify a person, and where an event was sent
from (``context.ip``, coordinates); see ``docs/access.md`` for each choice."""


def mask(
    document: Any, classifier: Classifier = DEFAULT, *, also: frozenset[str] = frozenset()
) -> Any:
    """``document`` (decoded JSON) with every personal value replaced by :data:`MASK` (see the
    module), and the values of the keys ``also`` (exact names) wherever they are; a new
    document, the given one is left as it is.

    >>> mask([{"profile_id": "p1", "value": "Ana"}], also=frozenset({"value"}))
    [{'profile_id': 'p1', 'value': '[masked]'}]
    """
    return _Masker(classifier, also, set()).record(document)


_SCRUBBED_LENGTH: Final = 4
"""Masked values this long or longer are also replaced where other strings quote them."""


def _scrub(document: Any, seen: set[str]) -> Any:
    """``document`` with every value masked elsewhere in it replaced where a string quotes it
    (an error that quotes a destination's answer, a user id that is an email)."""
    quoted = sorted((v for v in seen if len(v) >= _SCRUBBED_LENGTH), key=len, reverse=True)
    if not quoted:
        return document
    shortest = len(quoted[-1])

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            if len(value) >= shortest:
                for text in quoted:  # longest first: a value inside another is replaced after
                    if text in value:
                        value = value.replace(text, MASK)
            return value
        if isinstance(value, dict):
            return {key: scrub(item) for key, item in value.items()}
        if isinstance(value, list):
            return [scrub(item) for item in value]
        return value

    return scrub(document)


@dataclass(frozen=True, slots=True)
class _Masker:
    classifier: Classifier
    also: frozenset[str]
    seen: set[str]
    """The values masked so far (as text), for :func:`_scrub`."""

    def record(self, value: Any) -> Any:
        """``value`` masked, then scrubbed of the values masked in it."""
        return _scrub(self.walk(value, trait=False), self.seen)

    def walk(self, value: Any, *, trait: bool) -> Any:
        if isinstance(value, dict):
            return self.walk_object(value, trait=trait)
        if isinstance(value, list):
            # each object of a list is a record of its own, scrubbed of its own values only
            # (a page of a thousand people is not searched for each one's values)
            return [
                _Masker(self.classifier, self.also, set()).record(item)
                if isinstance(item, dict)
                else self.walk(item, trait=False)
                for item in value
            ]
        return value

    def walk_object(self, value: dict[str, Any], *, trait: bool) -> dict[str, Any]:
        hidden = self.pair_values(value)
        masked: dict[str, Any] = {}
        for key, item in value.items():
            if key in hidden or key in self.also or self.classifier.personal(key, trait=trait):
                masked[key] = self.hide(item)
            elif key in RAW_TEXT and isinstance(item, str):
                masked[key] = self.raw(item)
            else:
                masked[key] = self.walk(item, trait=words(key) == "traits")
        return masked

    def pair_values(self, value: dict[str, Any]) -> tuple[str, ...]:
        """The keys holding a pair's value when the kind it names is personal."""
        for kind_keys, value_keys in _PAIRS:
            for kind_key in kind_keys:
                kind = value.get(kind_key)
                if isinstance(kind, str) and self.classifier.personal(kind, trait=True):
                    return value_keys
        return ()

    def hide(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, dict):
            if "value" in value:  # a value with its metadata (a profile's trait)
                return {**value, "value": self.hide(value["value"])}
            return {key: self.hide(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.hide(item) for item in value]
        if value != MASK and not isinstance(value, bool):
            self.seen.add(value if isinstance(value, str) else str(value))
        return MASK

    def raw(self, text: str) -> str:
        try:
            decoded = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return MASK
        if not isinstance(decoded, dict | list):
            return MASK
        return msgspec.json.encode(self.walk(decoded, trait=False)).decode()
