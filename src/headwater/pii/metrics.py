"""What PII rules did, counted for Prometheus: ``headwater_pii_actions_total{stage, action}``.

``stage`` is where the rules applied: ``collection`` (before anything is stored) or
``routing`` (a destination's rules, on what is sent to it); ``action`` is ``hash``,
``redact`` or ``drop`` (one per field changed) or ``block`` (one per event refused, and
nothing else of that event). Fields a rule allows are not counted, nor ``mask``, which
applies when the management API is read, not to events. Both labels are closed sets: no
workspace, source, rule or field path is a label.

A caller tallies its outcomes in a :class:`Tally` and records it once per request or
batch, so the count costs a few list appends per event:

>>> tally = Tally()
>>> tally.add(apply(rules, message, salt=salt))
>>> tally.record(metrics.of(PiiMetrics), "collection")
"""

from __future__ import annotations

from typing import Final, Literal

from prometheus_client import CollectorRegistry, Counter

from headwater.pii.rules import ACTIONS, Applied, Outcome

__all__ = ["COUNTED", "PiiMetrics", "Stage", "Tally"]

Stage = Literal["collection", "routing"]

COUNTED: Final = ("hash", "redact", "drop", "block")
"""The actions counted (``allow`` changes nothing; ``mask`` acts on reads)."""

_STAGES: Final = ("collection", "routing")


class PiiMetrics:
    """PII rules' metrics (a group of :class:`~headwater.telemetry.metrics.Metrics`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        actions = Counter(
            "headwater_pii_actions_total",
            "PII rules' actions on events: fields hashed, redacted or dropped, events blocked",
            ["stage", "action"],
            registry=registry,
        )
        # Every series exists from the start (0 until counted), looked up once.
        self.actions = {
            (stage, action): actions.labels(stage, action)
            for stage in _STAGES
            for action in COUNTED
        }


class Tally:
    """The actions of a request's or a batch's outcomes, counted once at the end."""

    __slots__ = ("_applied", "_blocked")

    def __init__(self) -> None:
        self._applied: list[list[Applied]] = []
        self._blocked = 0

    def add(self, outcome: Outcome) -> None:
        """Count ``outcome``: ``block`` for a blocked event, else each field decided."""
        if outcome.blocked is not None:
            self._blocked += 1
        elif outcome.applied:
            self._applied.append(outcome.applied)

    def counts(self) -> dict[str, int]:
        """How many of each counted action (those not done left out).

        >>> tally = Tally()
        >>> tally.counts()
        {}
        """
        counts = dict.fromkeys(ACTIONS, 0)
        for applied in self._applied:
            for record in applied:
                counts[record.action] += 1
        counts["block"] = self._blocked  # a blocked event counts once, as a block
        return {action: counts[action] for action in COUNTED if counts[action]}

    def record(self, metrics: PiiMetrics, stage: Stage) -> None:
        """Add the counts to ``metrics`` under ``stage``."""
        for action, n in self.counts().items():
            metrics.actions[stage, action].inc(n)
