"""A developer adds a Stripe webhook source from its preset, copies its URL, Stripe sends a
signed event, and the developer sees it in the source's requests with the event it made; a
badly signed request shows as refused; the rules editor names a mistake and the test panel
runs a sample."""

from __future__ import annotations

import json
import time
from typing import NamedTuple

import httpx
from playwright.sync_api import Page, expect

from tests.hooks.senders import SENDERS
from tests.ui.conftest import World, serious_violations, sign_in


def test_a_developer_creates_a_stripe_webhook_and_sees_a_signed_request(
    page: Page, world: World
) -> None:
    developer = world.person("developer")
    sign_in(page, developer)
    page.get_by_role("link", name="Sources").click()
    page.get_by_role("button", name="Add a source").click()
    page.get_by_label("Name").fill("Payments")
    page.get_by_label("Another tool's webhooks").check()
    page.get_by_label("Sending tool").select_option("stripe")
    page.get_by_label("Signing secret (whsec_…)").fill("whsec_from_stripe")
    page.get_by_role("button", name="Create webhook source").click()

    expect(page.get_by_role("heading", name="Payments")).to_be_visible()
    url = page.get_by_label("webhook URL", exact=True).inner_text()
    assert url.startswith(world.server.url + "/v1/hooks/")
    expect(page.get_by_text("Header: Stripe-Signature")).to_be_visible()

    signed = SENDERS["stripe"]("whsec_from_stripe", url, int(time.time()))
    sent = httpx.post(url, content=signed.body, headers=signed.headers, timeout=30)
    assert sent.status_code == 200, sent.text
    forged = SENDERS["stripe"]("whsec_guessed", url, int(time.time()))
    refused = httpx.post(url, content=forged.body, headers=forged.headers, timeout=30)
    assert refused.status_code == 401

    page.get_by_role("tab", name="Requests").click()
    requests = page.get_by_role("list", name="Requests, newest first")
    expect(requests.get_by_role("button").filter(has_text="refused")).to_be_visible(timeout=10_000)
    requests.get_by_role("button").filter(has_text="1 message").click()
    detail = page.get_by_label("Selected request")
    expect(detail.get_by_role("heading", name="1 message made")).to_be_visible()
    # what the preset made, not only the body: the anonymous id is the rule's template
    expect(detail).to_contain_text("stripe:in_1NG8Du2eZvKYlo2C")
    expect(detail).to_contain_text("cus_NffrFeUfNV2Hib")
    expect(detail).to_contain_text("[redacted]")
    assert serious_violations(page) == []
    requests.get_by_role("button").filter(has_text="refused").click()
    expect(detail).to_contain_text("does not match")
    expect(detail).to_contain_text("Not kept: the request was refused.")

    # A request sent while the debugger is open arrives on its stream, without a reload.
    expect(page.get_by_role("status").filter(has_text="Listening")).to_be_visible()
    expect(requests.get_by_role("button")).to_have_count(2)
    wrong = httpx.post(url, content=b"{}", headers={"Content-Type": "application/json"})
    assert wrong.status_code == 401
    expect(requests.get_by_role("button")).to_have_count(3)
    expect(requests.get_by_role("button").first).to_contain_text("header is missing")


def test_the_rules_editor_names_mistakes_and_the_test_panel_runs_a_sample(
    page: Page, world: World
) -> None:
    developer = world.person("developer")
    made = world.server.api(
        "POST",
        f"/api/v1/workspaces/{developer.workspace}/webhook-sources",
        json={"name": "Forms", "preset": "typeform", "secret": "tf-secret"},
    )
    sign_in(page, developer)
    page.goto(f"/w/{developer.workspace}/sources/{made['hook']['source_id']}?tab=rules")
    page.get_by_role("button", name="JSON (advanced)").click()
    editor = page.get_by_label("Rules (JSON)")
    original = editor.input_value()
    editor.fill(original.replace('"type": "track"', '"type": "purchase"'))
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("list", name="Problems")).to_contain_text("rules.0.type")
    editor.fill("{ not json")
    expect(page.get_by_role("alert").filter(has_text="not valid JSON")).to_be_visible()
    editor.fill(original)

    sample = SENDERS["typeform"]("unused", "", 0)
    page.get_by_label("Sample body").fill(json.dumps(json.loads(sample.body)))
    page.get_by_role("button", name="Run the test").click()
    expect(page.get_by_label("Test result")).to_contain_text("Form Submitted")
    assert (
        world.server.api(
            "GET",
            f"/api/v1/workspaces/{developer.workspace}/sources/{made['hook']['source_id']}"
            "/hook/requests",
        )
        == []
    )


class _Hook(NamedTuple):
    workspace: str
    source_id: int


def _typeform_rules(page: Page, world: World) -> _Hook:
    """A developer's Typeform webhook source, its Rules tab open."""
    developer = world.person("developer")
    path = f"/api/v1/workspaces/{developer.workspace}/webhook-sources"
    made = world.server.api(
        "POST", path, json={"name": "Forms", "preset": "typeform", "secret": "tf-secret"}
    )
    hook = _Hook(developer.workspace, made["hook"]["source_id"])
    sign_in(page, developer)
    page.goto(f"/w/{hook.workspace}/sources/{hook.source_id}?tab=rules")
    return hook


def _test_plans(page: Page, makes_one: dict[str, bool]) -> None:
    """Run Typeform's sample through the test panel with each hidden ``plan``: whether the
    rules make the form's message for it."""
    sample = json.loads(SENDERS["typeform"]("unused", "", 0).body)
    result = page.get_by_label("Test result")
    for plan, made in makes_one.items():
        sample["form_response"]["hidden"]["plan"] = plan
        page.get_by_label("Sample body").fill(json.dumps(sample))
        page.get_by_role("button", name="Run the test").click()
        if made:
            expect(result).to_contain_text("Form Submitted")
        else:
            expect(result).to_contain_text("no rule holds for this request")


def test_a_marketer_edits_a_rule_through_the_form_and_tests_it(page: Page, world: World) -> None:
    """No JSON typed: the event name becomes text with a field, a property is added from a
    field of the body, a mistake in an expression is shown next to its field, the rules are
    saved, and the test panel shows the message the edited rule makes."""
    hook = _typeform_rules(page, world)
    rule = page.get_by_role("group", name="Rule 1", exact=True)
    expect(rule.get_by_label("Field", exact=True)).to_have_value("body.event_type")
    expect(rule.get_by_label("Event name", exact=True)).to_have_value("Form Submitted")

    rule.get_by_label("Event name: comes from").select_option(label="text with fields")
    rule.get_by_label("Event name", exact=True).fill("Form {body.form_response.form_id} sent")
    rule.get_by_role("button", name="Add a field").click()
    rule.get_by_label("Field name, row 5").fill("properties.plan")
    rule.get_by_label("properties.plan: comes from").select_option(label="an expression")
    rule.get_by_label("properties.plan", exact=True).fill("upper(body.form_response.hidden.plan")
    page.get_by_role("button", name="Save rules").click()
    expect(rule.get_by_text("The expression is invalid")).to_be_visible()
    expect(rule.get_by_label("properties.plan", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    rule.get_by_label("properties.plan", exact=True).fill("upper(body.form_response.hidden.plan)")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()

    stored = world.server.api(
        "GET", f"/api/v1/workspaces/{hook.workspace}/sources/{hook.source_id}/hook"
    )
    first = stored["config"]["rules"][0]
    assert first["set"]["event"] == {"template": "Form {body.form_response.form_id} sent"}
    assert first["set"]["properties.plan"] == {"expr": "upper(body.form_response.hidden.plan)"}
    assert first["when"] == {"path": "body.event_type", "op": "eq", "value": "form_response"}

    sample = json.loads(SENDERS["typeform"]("unused", "", 0).body)
    sample["form_response"]["hidden"]["plan"] = "pro"
    page.get_by_label("Sample body").fill(json.dumps(sample))
    page.get_by_role("button", name="Run the test").click()
    result = page.get_by_label("Test result")
    expect(result).to_contain_text("Form lT4Z3j sent")
    expect(result).to_contain_text("PRO")
    assert serious_violations(page) == []


def test_a_marketer_makes_a_rule_need_two_conditions(page: Page, world: World) -> None:
    """The rule's one condition becomes the first of "all of these", a second is added from
    the form; the saved rules hold both, and the test panel makes a message only from a
    request where both hold."""
    hook = _typeform_rules(page, world)
    rule = page.get_by_role("group", name="Rule 1", exact=True)
    rule.get_by_label("Applies to").select_option(label="requests where all of these hold")
    conditions = rule.get_by_role("list", name="Conditions")
    expect(conditions.get_by_label("Field, condition 1")).to_have_value("body.event_type")
    conditions.get_by_role("button", name="Add a condition").click()
    conditions.get_by_label("Field, condition 2").fill("body.form_response.hidden.plan")
    conditions.get_by_label("Value, condition 2").fill("pro")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()

    stored = world.server.api(
        "GET", f"/api/v1/workspaces/{hook.workspace}/sources/{hook.source_id}/hook"
    )
    assert stored["config"]["rules"][0]["when"]["all"] == [
        {"path": "body.event_type", "op": "eq", "value": "form_response"},
        {"path": "body.form_response.hidden.plan", "op": "eq", "value": "pro"},
    ]

    _test_plans(page, {"free": False, "pro": True})

    # Back to one comparison: the first is kept, the second goes.
    rule.get_by_label("Applies to").select_option(label="requests where a field…")
    expect(rule.get_by_label("Field", exact=True)).to_have_value("body.event_type")
    expect(rule.get_by_role("list", name="Conditions")).to_have_count(0)
    assert serious_violations(page) == []


def test_a_field_of_the_request_gets_a_value_to_use_when_it_is_missing(
    page: Page, world: World
) -> None:
    """A value to use "if missing" is offered for a field of the request (not for fixed
    text), saved as the value's default, and the test panel's message carries it when the
    request lacks the field; cleared, the value is a bare path again."""
    hook = _typeform_rules(page, world)
    rule = page.get_by_role("group", name="Rule 1", exact=True)
    rule.get_by_role("button", name="Add a field").click()
    rule.get_by_label("Field name, row 5").fill("properties.channel")
    rule.get_by_label("properties.channel", exact=True).fill("body.form_response.hidden.channel")
    rule.get_by_label("properties.channel: if missing").fill("website")
    expect(rule.get_by_label("Event name: if missing")).to_have_count(0)  # fixed text
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()

    path = f"/api/v1/workspaces/{hook.workspace}/sources/{hook.source_id}/hook"
    stored = world.server.api("GET", path)["config"]["rules"][0]["set"]
    assert stored["properties.channel"] == {
        "path": "body.form_response.hidden.channel",
        "default": "website",
    }

    sample = json.loads(SENDERS["typeform"]("unused", "", 0).body)
    assert "channel" not in sample["form_response"].get("hidden", {})
    page.get_by_label("Sample body").fill(json.dumps(sample))
    page.get_by_role("button", name="Run the test").click()
    result = page.get_by_label("Test result")
    expect(result).to_contain_text("channel")
    expect(result).to_contain_text("website")

    rule.get_by_label("properties.channel: if missing").fill("")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    stored = world.server.api("GET", path)["config"]["rules"][0]["set"]
    assert stored["properties.channel"] == "body.form_response.hidden.channel"
    assert serious_violations(page) == []


def test_a_marketer_sets_a_fixed_list_and_number_from_the_form(page: Page, world: World) -> None:
    """A fixed list and a fixed number are made in the form from their JSON: text that is
    not JSON yet is named at its field and saves nothing; saved, the rules hold the list and
    the number, the test panel's message carries them, a reload shows them again, and
    switched to fixed text the list is saved as its text."""
    hook = _typeform_rules(page, world)
    rule = page.get_by_role("group", name="Rule 1", exact=True)
    rule.get_by_role("button", name="Add a field").click()
    rule.get_by_label("Field name, row 5").fill("properties.tags")
    rule.get_by_label("properties.tags: comes from").select_option(label="a fixed number or list")
    tags = rule.get_by_label("properties.tags", exact=True)
    tags.fill('["vip", "eu"')
    expect(rule.get_by_text("This is not a number, list or object yet")).to_be_visible()
    expect(tags).to_have_attribute("aria-invalid", "true")
    tags.fill('["vip", "eu"]')
    expect(rule.get_by_text("This is not a number, list or object yet")).to_have_count(0)
    expect(tags).to_have_value('["vip", "eu"]')  # as typed, not respaced
    rule.get_by_role("button", name="Add a field").click()
    rule.get_by_label("Field name, row 6").fill("properties.score")
    rule.get_by_label("properties.score: comes from").select_option(label="a fixed number or list")
    rule.get_by_label("properties.score", exact=True).fill("42")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()

    path = f"/api/v1/workspaces/{hook.workspace}/sources/{hook.source_id}/hook"
    stored = world.server.api("GET", path)["config"]["rules"][0]["set"]
    assert stored["properties.tags"] == {"const": ["vip", "eu"]}
    assert stored["properties.score"] == {"const": 42}

    sample = json.loads(SENDERS["typeform"]("unused", "", 0).body)
    page.get_by_label("Sample body").fill(json.dumps(sample))
    page.get_by_role("button", name="Run the test").click()
    result = page.get_by_label("Test result")
    expect(result).to_contain_text("Form Submitted")
    expect(result).to_contain_text('"vip"')
    expect(result).to_contain_text("42")

    page.reload()
    rule = page.get_by_role("group", name="Rule 1", exact=True)
    expect(rule.get_by_label("properties.tags: comes from")).to_have_value("json")
    expect(rule.get_by_label("properties.tags", exact=True)).to_have_value('["vip","eu"]')
    expect(rule.get_by_label("properties.score", exact=True)).to_have_value("42")
    rule.get_by_label("properties.tags: comes from").select_option(label="fixed text")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    stored = world.server.api("GET", path)["config"]["rules"][0]["set"]
    assert stored["properties.tags"] == {"const": '["vip","eu"]'}
    assert stored["properties.score"] == {"const": 42}
    assert serious_violations(page) == []


def test_a_marketer_keeps_test_submissions_out_with_a_negated_test(
    page: Page, world: World
) -> None:
    """The test "is none of" needs no JSON: it is saved as the negation of "is one of", a
    request with a listed value makes no message while another does, and the form shows the
    test again after a reload; "none of these holds" negates a whole list."""
    hook = _typeform_rules(page, world)
    rule = page.get_by_role("group", name="Rule 1", exact=True)
    rule.get_by_label("Applies to").select_option(label="requests where all of these hold")
    conditions = rule.get_by_role("list", name="Conditions")
    conditions.get_by_role("button", name="Add a condition").click()
    conditions.get_by_label("Field, condition 2").fill("body.form_response.hidden.plan")
    conditions.get_by_label("Test, condition 2").select_option(label="is none of (comma-separated)")
    conditions.get_by_label("Value, condition 2").fill("test, internal")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()

    path = f"/api/v1/workspaces/{hook.workspace}/sources/{hook.source_id}/hook"
    stored = world.server.api("GET", path)
    assert stored["config"]["rules"][0]["when"]["all"][1] == {
        "not": {"path": "body.form_response.hidden.plan", "op": "in", "value": ["test", "internal"]}
    }

    _test_plans(page, {"internal": False, "pro": True})

    page.reload()
    rule = page.get_by_role("group", name="Rule 1", exact=True)
    conditions = rule.get_by_role("list", name="Conditions")
    expect(conditions.get_by_label("Test, condition 2")).to_have_value("not_in")
    expect(conditions.get_by_label("Value, condition 2")).to_have_value("test, internal")

    rule.get_by_label("Applies to").select_option(label="requests where none of these holds")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    when = world.server.api("GET", path)["config"]["rules"][0]["when"]
    assert list(when) == ["not"]
    assert [part.get("path") for part in when["not"]["any"]] == ["body.event_type", None]
    assert serious_violations(page) == []


def test_a_developer_adds_a_transformation_and_a_verification_reply_from_the_form(
    page: Page, world: World
) -> None:
    """The transformation and the verification reply need no JSON: a mistake in the
    expression is shown at it, the saved configuration holds both, the test panel shows a
    verification answered, the source's URL answers one, and unticked the reply is gone."""
    hook = _typeform_rules(page, world)
    transformation = page.get_by_role("group", name="Transformation")
    expression = transformation.get_by_label("Expression")
    expression.fill("[merge(m, {event: upper(m.event)}) for m in messages")
    page.get_by_role("button", name="Save rules").click()
    expect(transformation.get_by_text("The expression is invalid")).to_be_visible()
    expect(expression).to_have_attribute("aria-invalid", "true")
    expression.fill("[merge(m, {event: upper(m.event)}) for m in messages]")

    reply = page.get_by_role("group", name="Verification reply")
    expect(reply.get_by_label("Echo the value of")).to_have_count(0)
    reply.get_by_label("Answer the tool's verification requests").check()
    expect(reply.get_by_label("Field", exact=True)).to_have_value("query.challenge")
    result = page.get_by_label("Test result")
    page.get_by_label("Sample method").select_option("GET")
    expect(page.get_by_label("Sample body")).to_have_count(0)
    page.get_by_label("Sample query").fill("challenge=q-1234")
    page.get_by_role("button", name="Run the test").click()
    expect(result).to_contain_text("answered with q-1234")  # unsaved: the form as it stands
    reply.get_by_label("Field", exact=True).fill("body.challenge")
    reply.get_by_label("Echo the value of").fill("body.challenge")
    reply.get_by_label("Answer with").select_option(label="a JSON object holding the value")
    expect(reply.get_by_label("Key of the value in the object")).to_have_value("challenge")
    reply.get_by_label("GET").uncheck()
    expect(reply.get_by_label("POST")).to_be_disabled()  # the last method stays
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()

    path = f"/api/v1/workspaces/{hook.workspace}/sources/{hook.source_id}/hook"
    stored = world.server.api("GET", path)
    assert stored["config"]["transform"] == "[merge(m, {event: upper(m.event)}) for m in messages]"
    assert stored["config"]["reply"] == {
        "when": {"path": "body.challenge", "op": "exists"},
        "echo": "body.challenge",
        "json_key": "challenge",
        "status": 200,
        "methods": ["POST"],
    }

    page.get_by_role("button", name="Run the test").click()  # GET is no longer answered
    expect(result).to_contain_text("no rule holds for this request")
    page.get_by_label("Sample method").select_option("POST")
    page.get_by_label("Sample query").fill("")
    page.get_by_label("Sample body").fill(json.dumps({"challenge": "ch-4711"}))
    page.get_by_role("button", name="Run the test").click()
    expect(result).to_contain_text("A verification request: answered with")
    expect(result).to_contain_text("ch-4711")
    page.get_by_label("Sample body").fill(SENDERS["typeform"]("unused", "", 0).body.decode())
    page.get_by_role("button", name="Run the test").click()
    expect(result).to_contain_text("FORM SUBMITTED")

    answered = httpx.post(
        world.server.url + stored["path"], json={"challenge": "ch-0815"}, timeout=30
    )
    assert answered.status_code == 200
    assert answered.json() == {"challenge": "ch-0815"}

    page.reload()
    reply = page.get_by_role("group", name="Verification reply")
    expect(reply.get_by_label("Echo the value of")).to_have_value("body.challenge")
    expect(reply.get_by_label("GET")).not_to_be_checked()
    reply.get_by_label("Answer the tool's verification requests").uncheck()
    page.get_by_role("group", name="Transformation").get_by_label("Expression").fill("")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    stored = world.server.api("GET", path)
    assert stored["config"].get("reply") is None
    assert stored["config"].get("transform") is None
    assert serious_violations(page) == []


def test_a_marketer_nests_a_group_of_conditions_in_a_rule(page: Page, world: World) -> None:
    """ "Any of" inside "all of", from the form: the saved condition nests them, the test
    panel makes the message for either plan of the group and not for another, and the form
    shows the group again after a reload."""
    hook = _typeform_rules(page, world)
    rule = page.get_by_role("group", name="Rule 1", exact=True)
    rule.get_by_label("Applies to").select_option(label="requests where all of these hold")
    rule.get_by_role("button", name="Add a group of conditions", exact=True).click()
    rule.get_by_label("Group 2: requests where").select_option(label="any of these holds")
    group = rule.get_by_role("list", name="Conditions of group 2")
    group.get_by_label("Field, condition 2.1").fill("body.form_response.hidden.plan")
    group.get_by_label("Value, condition 2.1").fill("pro")
    group.get_by_role("button", name="Add a condition to group 2").click()
    group.get_by_label("Field, condition 2.2").fill("body.form_response.hidden.plan")
    group.get_by_label("Value, condition 2.2").fill("business")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()

    path = f"/api/v1/workspaces/{hook.workspace}/sources/{hook.source_id}/hook"
    when = world.server.api("GET", path)["config"]["rules"][0]["when"]
    plan = "body.form_response.hidden.plan"
    assert when == {
        "all": [
            {"path": "body.event_type", "op": "eq", "value": "form_response"},
            {
                "any": [
                    {"path": plan, "op": "eq", "value": "pro"},
                    {"path": plan, "op": "eq", "value": "business"},
                ]
            },
        ]
    }

    _test_plans(page, {"free": False, "pro": True, "business": True})

    page.reload()
    rule = page.get_by_role("group", name="Rule 1", exact=True)
    expect(rule.get_by_label("Group 2: requests where")).to_have_value("any")
    expect(rule.get_by_label("Value, condition 2.2")).to_have_value("business")
    rule.get_by_role("button", name="Remove group 2").click()
    expect(rule.get_by_role("list", name="Conditions of group 2")).to_have_count(0)
    assert serious_violations(page) == []


def test_negations_written_as_json_show_in_the_form(page: Page, world: World) -> None:
    """A condition written as JSON with a negated "is" and a negated group shows in the form
    as "is not" and "not all of these hold", with no JSON view needed, and works as written
    in the test panel."""
    hook = _typeform_rules(page, world)
    path = f"/api/v1/workspaces/{hook.workspace}/sources/{hook.source_id}/hook"
    stored = world.server.api("GET", path)
    plan = "body.form_response.hidden.plan"
    stored["config"]["rules"][0]["when"] = {
        "all": [
            {"path": "body.event_type", "op": "eq", "value": "form_response"},
            {"not": {"path": plan, "op": "eq", "value": "internal"}},
            {
                "not": {
                    "all": [
                        {"path": plan, "op": "eq", "value": "free"},
                        {"path": "body.form_response.hidden.referrer", "op": "missing"},
                    ]
                }
            },
        ]
    }
    world.server.api("PUT", path, json={"preset": stored["preset"], "config": stored["config"]})
    page.reload()
    rule = page.get_by_role("group", name="Rule 1", exact=True)
    expect(rule.get_by_text("Edit them in the JSON view")).to_have_count(0)
    expect(rule.get_by_label("Test, condition 2")).to_have_value("ne")
    expect(rule.get_by_label("Value, condition 2")).to_have_value("internal")
    expect(rule.get_by_label("Group 3: requests where")).to_have_value("notall")
    expect(rule.get_by_label("Test, condition 3.2")).to_have_value("missing")

    _test_plans(page, {"internal": False, "free": False, "pro": True})

    # Kept as written until edited; an edited condition is saved as the form shows it.
    rule.get_by_label("Value, condition 2").fill("staff")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    when = world.server.api("GET", path)["config"]["rules"][0]["when"]
    assert when["all"][1] == {"path": plan, "op": "ne", "value": "staff"}
    assert when["all"][2] == {
        "not": {
            "all": [
                {"path": plan, "op": "eq", "value": "free"},
                {"path": "body.form_response.hidden.referrer", "op": "missing"},
            ]
        }
    }
    assert serious_violations(page) == []
