"""Identifiers for generated code: event and property names made valid in Python or
TypeScript, unique within their scope (pure).

>>> snake("Order Completed"), camel("Order Completed"), pascal("order_completed")
('order_completed', 'orderCompleted', 'OrderCompleted')
"""

from __future__ import annotations

import keyword
import re

__all__ = ["Names", "camel", "pascal", "snake", "words"]


def words(name: str) -> list[str]:
    """The words of a name: split on non-alphanumerics and camelCase humps."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]


def snake(name: str) -> str:
    found = "_".join(words(name)) or "unnamed"
    if found[0].isdigit():
        found = f"_{found}"
    return f"{found}_" if keyword.iskeyword(found) or keyword.issoftkeyword(found) else found


def pascal(name: str) -> str:
    found = "".join(w.capitalize() for w in words(name)) or "Unnamed"
    return f"_{found}" if found[0].isdigit() else found


def camel(name: str) -> str:
    found = pascal(name)
    return found[0].lower() + found[1:] if not found.startswith("_") else found


class Names:
    """Hands out unique names in one scope: a taken name gets ``_2``, ``_3``…"""

    def __init__(self, reserved: set[str] | None = None) -> None:
        self.taken: set[str] = set(reserved or ())

    def claim(self, name: str) -> str:
        candidate, number = name, 2
        while candidate in self.taken:
            candidate = f"{name}_{number}"
            number += 1
        self.taken.add(candidate)
        return candidate
