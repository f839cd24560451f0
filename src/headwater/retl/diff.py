"""The diff by primary key between a model's rows now and a sync's state (pure).

>>> differ = Differ({"1": row_hash([1, "a"]), "2": row_hash([2, "b"])})
>>> differ.see("1", row_hash([1, "a"])) is None          # unchanged
True
>>> differ.see("2", row_hash([2, "B"]))
'changed'
>>> differ.see("3", row_hash([3, "c"]))
'added'
>>> differ.removed()
[]

The state maps each key to the hash of its row as last sent (``None`` while it was never
sent: its first attempt failed). A key whose stored hash is ``None`` is *added* again; a key
in the state (sent) and no longer in the model is *removed*.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec

__all__ = ["Differ", "DuplicateKey", "row_hash"]

_encoder = msgspec.json.Encoder(decimal_format="number")


def row_hash(values: Sequence[Any]) -> bytes:
    """A 16-byte digest of a row's values in column order (any value msgspec encodes:
    numbers, text, dates and times, decimals, UUIDs, bytes, lists, dicts)."""
    return hashlib.blake2b(_encoder.encode(values), digest_size=16).digest()


class DuplicateKey(ValueError):
    """The model returned the same primary key twice in one run."""


class Differ:
    def __init__(self, state: Mapping[str, bytes | None]) -> None:
        """``state``: key -> hash last sent (None: never sent)."""
        self._state = state
        self._seen: set[str] = set()

    def see(self, key: str, digest: bytes) -> Literal["added", "changed"] | None:
        """How the row of ``key`` differs from what was sent: ``added``, ``changed`` or None
        (unchanged). Raises :class:`DuplicateKey` for a key seen before in this run."""
        if key in self._seen:
            raise DuplicateKey(key)
        self._seen.add(key)
        if key not in self._state:
            return "added"
        previous = self._state[key]
        if previous is None:
            return "added"
        return None if previous == digest else "changed"

    def removed(self) -> list[str]:
        """Keys sent before and not seen in this run (sorted)."""
        return sorted(
            key
            for key, digest in self._state.items()
            if digest is not None and key not in self._seen
        )

    def forgotten(self) -> list[str]:
        """Keys never sent (their attempts failed) and no longer in the model: nothing to undo,
        their state goes."""
        return sorted(
            key for key, digest in self._state.items() if digest is None and key not in self._seen
        )
