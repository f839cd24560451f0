"""The examples in the identity modules' docstrings hold."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["model", "extract", "graph", "incremental", "traits"])
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"headwater.identity.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
