"""Published journey versions, parsed once each: a version never changes, so a process keeps
what it parsed (the stage, the runner and the audience entries each hold one)."""

from __future__ import annotations

from typing import Any

from headwater.audiences import decode_json
from headwater.journeys import instances
from headwater.journeys.graph import Journey, parse_journey
from headwater.storage import Transaction

__all__ = ["Versions"]


class Versions:
    def __init__(self) -> None:
        self._parsed: dict[tuple[int, int], Journey] = {}

    def of_row(self, row: Any) -> Journey:
        """The version of a journey row that carries its ``document`` (``running_journeys``)."""
        key = (row["id"], row["version"])
        if key not in self._parsed:
            self._parsed[key] = parse_journey(decode_json(row["document"]))
        return self._parsed[key]

    async def get(self, tx: Transaction, journey_id: int, version: int) -> Journey | None:
        """Version ``version`` of the journey; None when the journey is gone."""
        key = (journey_id, version)
        if key not in self._parsed:
            document = await instances.version_document(tx, journey_id, version)
            if document is None:
                return None
            self._parsed[key] = parse_journey(document)
        return self._parsed[key]
