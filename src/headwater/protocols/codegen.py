"""Typed tracking code from a plan, as Segment's Typewriter writes it (pure).

>>> source = generate(plan, "python", version=3)     # or "typescript"

Python: a module for ``segment-analytics-python`` (see :mod:`.codegen_python`); TypeScript: a
module for ``@segment/analytics-node`` (see :mod:`.codegen_typescript`). Both accept only the
planned properties, with their types, so a type checker (mypy, tsc) catches a misspelt or
mistyped property before it is sent.
"""

from __future__ import annotations

from typing import Literal

from headwater.protocols.codegen_python import python_module
from headwater.protocols.codegen_typescript import typescript_module
from headwater.protocols.plan import PlanDocument

__all__ = ["Language", "generate"]

Language = Literal["python", "typescript"]


def generate(plan: PlanDocument, language: Language, *, version: int | None = None) -> str:
    """The source of a module in ``language`` with one typed call per planned event."""
    if language == "python":
        return python_module(plan, version=version)
    return typescript_module(plan, version=version)
