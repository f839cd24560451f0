"""Headwater: an open-source, self-hosted customer data platform.

The package reads like the architecture (see ``docs/architecture.md``):

- ``spec``: the Segment spec as pure functions (messages, normalisation, limits).
- ``storage``: one SQLAlchemy ``MetaData``, the engine, embedded PostgreSQL, migrations.
- ``log``: the event log interface and its PostgreSQL implementation.
- ``workspaces``: workspaces, sources and write keys.
- ``collect``: the tracking API's service (parse, normalise, dedupe, group commit).
- ``api``: the ASGI application (tracking routes and the management API).
- ``cli`` and ``server``: the entry points that wire everything together.
"""

__version__ = "0.1.0"
