"""Counting the rules' actions: a field changed counts once, a blocked event once as a block
(nothing else of it), an allowed field not at all."""

from __future__ import annotations

from headwater.pii import PiiMetrics, Rule, Tally, apply, compile_rules
from headwater.telemetry.metrics import Metrics

RULES = compile_rules(
    [
        Rule(id=1, path="properties.email", action="hash"),
        Rule(id=2, path="properties.plan", action="allow"),
        Rule(id=3, key="(?i)phone", action="redact"),
        Rule(id=4, path="properties.secret", action="block"),
    ]
)


def test_a_tally_counts_fields_changed_and_events_blocked() -> None:
    tally = Tally()
    for properties in (
        {"email": "a@b.co", "plan": "pro", "phone": "1", "mobile_phone": "2"},
        {"email": "c@d.co", "secret": 1},  # blocked: its email hashed first is not counted
        {"total": 3},
    ):
        tally.add(apply(RULES, {"type": "track", "properties": properties}, salt=b"s"))
    assert tally.counts() == {"hash": 1, "redact": 2, "block": 1}


def test_recorded_under_its_stage_and_action() -> None:
    metrics = Metrics()
    tally = Tally()
    tally.add(apply(RULES, {"type": "track", "properties": {"email": "a@b.co"}}, salt=b"s"))
    tally.record(metrics.of(PiiMetrics), "routing")
    tally.record(metrics.of(PiiMetrics), "routing")
    name = "headwater_pii_actions_total"
    assert metrics.sample(name, {"stage": "routing", "action": "hash"}) == 2
    assert metrics.sample(name, {"stage": "collection", "action": "hash"}) == 0
    assert metrics.sample(name, {"stage": "routing", "action": "allow"}) is None
