"""The journey document: drafts parsed, the checks before publishing, live-edit relocation."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.journeys import (
    NODE_TYPES,
    JourneyError,
    parse_journey,
    publish_problems,
    relocate,
)


def _journey(nodes: dict[str, Any], start: str = "a", **more: Any) -> dict[str, Any]:
    return {"version": 1, "trigger": {"type": "manual"}, "start": start, "nodes": nodes, **more}


def _problems(raw: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(JourneyError) as refused:
        parse_journey(raw)
    return refused.value.problems


WELCOME: dict[str, Any] = _journey(
    {
        "a": {"type": "delay", "config": {"duration": {"hours": 1}}, "next": {"out": "b"}},
        "b": {
            "type": "wait_event",
            "config": {
                "events": [{"port": "bought", "event": "Order Completed"}],
                "timeout": {"days": 2},
            },
            "next": {"bought": "done", "timeout": "c"},
        },
        "c": {
            "type": "split",
            "config": {
                "branches": [
                    {
                        "port": "pro",
                        "condition": {
                            "type": "trait",
                            "trait": "plan",
                            "operator": "equals",
                            "value": "pro",
                        },
                    }
                ]
            },
            "next": {"pro": "mail", "else": "done"},
        },
        "mail": {
            "type": "send",
            "config": {"destination": 3, "event": "Reminder"},
            "next": {"out": "done"},
        },
        "done": {"type": "exit"},
    },
    trigger={"type": "event", "event": "Signed Up"},
    exits=[{"event": "Unsubscribed"}],
    goal={"event": "Order Completed", "within": {"days": 14}},
)


def test_a_complete_journey_parses_and_may_be_published() -> None:
    journey = parse_journey(WELCOME)
    assert publish_problems(journey) == []
    assert journey.ports("b") == ("bought", "timeout")
    assert journey.ports("c") == ("pro", "else")
    assert journey.ports("mail") == ("out", "error")
    assert list(journey.targets("b")) == ["done", "c"]
    assert journey.document.goal is not None
    assert journey.document.goal.within.span().days == 14


def test_a_draft_may_be_unfinished_but_not_publish() -> None:
    draft = parse_journey(
        _journey(
            {
                "a": {"type": "delay", "config": {"duration": {"minutes": 5}}},
                "lost": {"type": "exit"},
            }
        )
    )
    problems = publish_problems(draft)
    assert {"path": "nodes.a.next", "message": problems[0]["message"]} in problems
    assert "'out'" in problems[0]["message"]


def test_unreachable_nodes_are_named() -> None:
    raw = _journey({"a": {"type": "exit"}, "island": {"type": "exit"}})
    assert [p["path"] for p in publish_problems(parse_journey(raw))] == ["nodes.island"]


def test_a_loop_is_refused_with_its_path() -> None:
    raw = _journey(
        {
            "a": {"type": "delay", "config": {"duration": {"hours": 1}}, "next": {"out": "b"}},
            "b": {"type": "goto", "config": {"node": "a"}},
        }
    )
    problems = publish_problems(parse_journey(raw))
    assert len(problems) == 1
    assert "a -> b -> a" in problems[0]["message"]


def test_goto_forward_is_fine_and_its_target_must_exist() -> None:
    forward = _journey(
        {
            "a": {"type": "goto", "config": {"node": "c"}},
            "c": {"type": "exit"},
        }
    )
    assert publish_problems(parse_journey(forward)) == []
    nowhere = _journey({"a": {"type": "goto", "config": {"node": "zz"}}})
    assert [p["path"] for p in publish_problems(parse_journey(nowhere))] == ["nodes.a.config.node"]


def test_the_error_port_may_stay_unconnected() -> None:
    raw = _journey(
        {
            "a": {
                "type": "webhook",
                "config": {"url": "https://example.com/hook"},
                "next": {"out": "b"},
            },
            "b": {"type": "exit"},
        }
    )
    assert publish_problems(parse_journey(raw)) == []


def test_a_start_that_is_no_node_is_said() -> None:
    raw = _journey({"a": {"type": "exit"}}, start="b")
    assert publish_problems(parse_journey(raw)) == [
        {"path": "start", "message": "'b' is not a node"}
    ]


def test_every_problem_of_a_draft_comes_with_its_path() -> None:
    raw = _journey(
        {
            "a": {"type": "teleport"},
            "b": {"type": "delay", "config": {"duration": {"hours": 0}}},
            "c": {"type": "exit", "next": {"out": "a"}},
            "d": {"type": "delay", "config": {"duration": {"hours": 1}}, "next": {"out": "zz"}},
            "e": {"type": "delay", "config": {"duration": {"hours": 1}, "python": "os.system"}},
        }
    )
    paths = [problem["path"] for problem in _problems(raw)]
    assert paths == [
        "nodes.a.type",
        "nodes.b.config.duration",
        "nodes.c.next.out",
        "nodes.d.next.out",
        "nodes.e.config.python",
    ]


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ([], "(root)"),
        ({"version": 2}, "version"),
        (_journey({"a": {"type": "exit"}}, entry={"mode": "cooldown"}), "entry"),
        (
            _journey({"a": {"type": "exit"}}, entry={"max_instances": 3}),
            "entry",
        ),
        (_journey({"a b": {"type": "exit"}}), "nodes.a b.[key]"),
        (_journey({"a": {"type": "exit"}}, trigger={"type": "audience_entered"}), ""),
    ],
)
def test_malformed_documents_are_refused(raw: Any, path: str) -> None:
    problems = _problems(raw)
    assert problems
    assert any(problem["path"].startswith(path) for problem in problems), problems


def test_node_configs_are_checked_by_their_type() -> None:
    bad = {
        "wait_event": {
            "events": [{"port": "timeout", "event": "Paid"}],
            "timeout": {"days": 1},
        },
        "split": {
            "branches": [
                {"port": "x", "condition": {"type": "audience", "audience": "a"}},
                {"port": "x", "condition": {"type": "audience", "audience": "b"}},
            ]
        },
        "random_split": {"cohorts": [{"port": "a", "weight": 1}]},
        "update_traits": {"updates": [{"op": "increment", "trait": "n", "value": "1"}]},
        "update_traits ": {"updates": [{"op": "unset", "trait": "n", "value": 1}]},
        "delay": {"duration": {"days": 1}, "until_trait": "birthday"},
        "webhook": {"url": "file:///etc/passwd"},
        "webhook ": {"url": "https://example.com", "headers": {"X-Api-Key": "k"}},
        "send": {"destination": 0, "event": "x"},
        "list_membership": {"action": "toggle", "audience": "vips"},
    }
    for kind, config in bad.items():
        node = {"type": kind.strip(), "config": config}
        paths = [p["path"] for p in _problems(_journey({"a": node}))]
        assert paths, kind
        assert all(path.startswith("nodes.a.config") for path in paths), kind


def test_each_node_type_has_its_ports() -> None:
    wait = NODE_TYPES["wait_condition"]
    condition = {"type": "audience", "audience": "vips"}
    assert wait.ports(wait.config({"condition": condition, "timeout": {"hours": 1}})) == (
        "met",
        "timeout",
    )
    cohorts = NODE_TYPES["random_split"]
    config = cohorts.config({"cohorts": [{"port": "a", "weight": 1}, {"port": "b", "weight": 3}]})
    assert cohorts.ports(config) == ("a", "b")
    assert NODE_TYPES["exit"].ports(NODE_TYPES["exit"].config({})) == ()
    assert {kind for kind, node in NODE_TYPES.items() if node.action} == {
        "send",
        "webhook",
        "update_traits",
        "list_membership",
    }


def test_a_deleted_node_sends_its_instances_to_its_successor() -> None:
    old = parse_journey(WELCOME)
    without_wait = dict(WELCOME["nodes"])
    del without_wait["b"]
    without_wait["a"] = {**without_wait["a"], "next": {"out": "c"}}
    new = parse_journey({**WELCOME, "nodes": without_wait})
    assert relocate(old, new, "a") == "a"  # still there
    assert relocate(old, new, "b") == "done"  # its first port (bought) leads to done
    gone = {"a": {"type": "exit"}}
    assert relocate(old, parse_journey(_journey(gone)), "mail") is None  # nowhere left


def test_relocation_prefers_ports_before_error() -> None:
    raw = _journey(
        {
            "a": {
                "type": "webhook",
                "config": {"url": "https://example.com/hook"},
                "next": {"error": "oops", "out": "fine"},
            },
            "oops": {"type": "exit"},
            "fine": {"type": "exit"},
        }
    )
    old = parse_journey(raw)
    new = parse_journey(_journey({"oops": {"type": "exit"}, "fine": {"type": "exit"}}, "fine"))
    assert relocate(old, new, "a") == "fine"
