"""The connector registry: stable ``kind`` names, each loaded from its module on first use.

Connectors are registered as Python entry points in the group :data:`GROUP`, the entry point's
name being the connector's ``kind`` (the stable name stored with each destination instance)::

    [project.entry-points."headwater.connectors"]
    webhook = "headwater.connectors.webhook:Webhook"

Headwater's own connectors are declared in its ``pyproject.toml``; another installed
distribution adds one the same way, without a change here. Reading the names touches only
the installed packages' metadata: a connector's module (and whatever vendor client it imports)
is imported the first time its kind is looked up, then kept.

>>> registered()
('amplitude', 'braze', ..., 'webhook')
>>> lookup("webhook")
<class 'headwater.connectors.webhook.Webhook'>
>>> lookup("nope") is None
True
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from headwater.connectors.base import Connector
from headwater.errors import ConfigurationError

__all__ = ["GROUP", "load_all", "lookup", "registered"]

GROUP = "headwater.connectors"
"""The entry-point group that registers connectors, by ``kind``."""


@functools.cache
def _entry_points() -> dict[str, EntryPoint]:
    """The group's entry points by name; one name declared with two targets is an error (an
    installation that registers the same target twice, as editable installs may, is not)."""
    found: dict[str, EntryPoint] = {}
    for point in entry_points(group=GROUP):
        seen = found.setdefault(point.name, point)
        if seen.value != point.value:
            raise ConfigurationError(
                f"connector kind {point.name!r} is registered twice: {seen.value} and {point.value}"
            )
    return found


def registered() -> tuple[str, ...]:
    """Every registered kind, sorted; imports no connector module."""
    return tuple(sorted(_entry_points()))


def lookup(kind: str) -> type[Connector[Any]] | None:
    """The connector registered as ``kind``, its module imported on the first call; None if
    no connector has that name. A registration that names something other than a connector
    of that kind is a :class:`~headwater.errors.ConfigurationError`."""
    return _load(kind) if kind in _entry_points() else None


def load_all() -> dict[str, type[Connector[Any]]]:
    """Every registered connector by kind (imports them all: for the catalog listing)."""
    return {kind: _load(kind) for kind in registered()}


@functools.cache
def _load(kind: str) -> type[Connector[Any]]:
    point = _entry_points()[kind]
    loaded = point.load()
    if not (isinstance(loaded, type) and issubclass(loaded, Connector)):
        raise ConfigurationError(f"connector kind {kind!r} names {point.value}, not a Connector")
    if loaded.kind != kind:
        raise ConfigurationError(
            f"connector kind {kind!r} names {point.value}, whose kind is {loaded.kind!r}"
        )
    return loaded
