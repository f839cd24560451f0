"""A marketer builds an audience and a computed trait in the builder, previews them, saves them,
and sees a person enter after events sent with the official Segment Python SDK; an analyst
reads them without being offered any change."""

from __future__ import annotations

import re
import time

import httpx
from playwright.sync_api import Page, expect
from segment.analytics.client import Client as SegmentClient

from tests.ui.conftest import World, serious_violations, sign_in


def test_a_marketer_builds_an_audience_and_sees_a_member_enter(page: Page, world: World) -> None:
    marketer = world.person("marketer")
    source = world.source(marketer.workspace)
    sign_in(page, marketer)
    page.get_by_role("link", name="Audiences").click()
    expect(page.get_by_role("heading", name="No audience yet")).to_be_visible()
    page.get_by_role("link", name="New audience").click()
    page.get_by_label("Name", exact=True).fill("Pro clickers")
    page.get_by_label("Key", exact=True).fill("pro_clickers")

    # performed "Clicked Button" at least once in the last 7 days...
    page.get_by_label("Condition 1: name").fill("Clicked Button")
    page.get_by_label("Condition 1: how often").select_option(label="a number of times")
    page.get_by_label("Condition 1: times").select_option(label="at least")
    page.get_by_label("Condition 1: number of times").fill("1")
    page.get_by_label("Condition 1: when", exact=True).select_option(label="in the last … days")
    page.get_by_label("Condition 1: when: days").fill("7")
    # ... and has the trait plan = "pro"
    page.get_by_role("button", name="+ Condition").click()
    page.get_by_label("Condition 2: type").select_option(label="Has a trait")
    page.get_by_label("Condition 2: trait").fill("plan")
    page.get_by_label("Condition 2: value", exact=True).fill("pro")
    page.get_by_label("Condition 2: comparison").select_option(label="is")

    page.get_by_role("button", name="Preview size and members").click()
    expect(page.get_by_role("status", name="Preview")).to_contain_text("0 members now")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Save audience").click()

    expect(page.get_by_role("heading", name="Pro clickers")).to_be_visible()
    expect(page.get_by_role("heading", name="No member yet")).to_be_visible()
    definition = world.server.api(
        "GET", f"/api/v1/workspaces/{marketer.workspace}/audiences/pro_clickers"
    )["definition"]
    assert definition == {
        "version": 1,
        "condition": {
            "type": "and",
            "conditions": [
                {
                    "type": "event",
                    "event": "Clicked Button",
                    "count": {"operator": "at_least", "value": 1},
                    "window": {"within_days": 7},
                },
                {"type": "trait", "trait": "plan", "operator": "equals", "value": "pro"},
            ],
        },
    }

    client = SegmentClient(str(source["write_key"]), host=world.server.url, sync_mode=True)
    client.identify(user_id="ada", traits={"plan": "pro", "email": "ada@example.com"})
    client.track(user_id="ada", event="Clicked Button", properties={"button": "buy"})
    client.track(user_id="bo", event="Clicked Button")  # no plan: stays out

    members = page.get_by_role("region", name="Members", exact=True)
    expect(members.get_by_role("cell", name="ada", exact=True)).to_be_visible(timeout=20_000)
    expect(members.get_by_role("cell", name="bo", exact=True)).to_have_count(0)
    page.get_by_role("tab", name="Changes").click()
    expect(page.get_by_role("region", name="Changes, newest first")).to_contain_text("entered")
    assert serious_violations(page) == []

    page.get_by_role("tab", name="Members").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download all as CSV").click()
    exported = download.value.path().read_text()
    assert exported.splitlines()[0] == "profile_id,user_id,email,value,since"
    assert ",ada," in exported


def test_a_marketer_creates_a_computed_trait(page: Page, world: World) -> None:
    marketer = world.person("marketer")
    source = world.source(marketer.workspace)
    sign_in(page, marketer)
    page.get_by_role("link", name="Computed traits").click()
    expect(page.get_by_role("heading", name="No computed trait yet")).to_be_visible()
    page.get_by_role("link", name="New computed trait").click()
    page.get_by_label("Name", exact=True).fill("Clicks in 30 days")
    page.get_by_label("Key", exact=True).fill("clicks_30d")
    page.get_by_label("Compute", exact=True).select_option(label="Number of events")
    page.get_by_label("Events: name").fill("Clicked Button")
    page.get_by_label("Events: when", exact=True).select_option(label="in the last … days")
    page.get_by_label("Events: when: days").fill("30")
    page.get_by_role("button", name="Preview size and members").click()
    expect(page.get_by_role("status", name="Preview")).to_contain_text("0 profiles with a value")
    page.get_by_role("button", name="Save computed trait").click()
    expect(page.get_by_role("heading", name="Clicks in 30 days")).to_be_visible()

    client = SegmentClient(str(source["write_key"]), host=world.server.url, sync_mode=True)
    for _ in range(2):
        client.track(user_id="cy", event="Clicked Button")
    values = page.get_by_role("region", name="Values", exact=True)
    row = values.get_by_role("row").filter(has_text="cy")
    expect(row.get_by_role("cell", name="2", exact=True)).to_be_visible(timeout=20_000)


def test_the_changes_tab_charts_entries_per_day(page: Page, world: World) -> None:
    analyst = world.person("analyst")
    source = world.source(analyst.workspace)
    world.server.api(
        "POST",
        f"/api/v1/workspaces/{analyst.workspace}/audiences",
        json={
            "key": "payers",
            "name": "Payers",
            "definition": {"version": 1, "condition": {"type": "event", "event": "Paid"}},
        },
    )
    sign_in(page, analyst)
    page.get_by_role("link", name="Audiences").click()
    page.get_by_role("link", name="Payers").click()
    page.get_by_role("tab", name="Changes").click()
    expect(page.get_by_role("heading", name="No change yet")).to_be_visible()

    for user in ("ada", "bo"):
        world.track(str(source["write_key"]), "Paid", user_id=user)
    page.get_by_role("tab", name="Members").click()
    members = page.get_by_role("region", name="Members", exact=True)
    for user in ("ada", "bo"):
        expect(members.get_by_role("cell", name=user, exact=True)).to_be_visible(timeout=20_000)
    page.get_by_role("tab", name="Changes").click()
    chart = page.get_by_role("img", name=re.compile(r"^Changes per day \(UTC\), last 30 days"))
    expect(chart).to_have_accessible_name(re.compile(r"Entered: 2, Exited: 0$"), timeout=20_000)
    page.get_by_label("Over").select_option(label="the last 7 days")
    chart = page.get_by_role("img", name=re.compile(r"^Changes per day \(UTC\), last 7 days"))
    expect(chart).to_have_accessible_name(re.compile(r"Entered: 2, Exited: 0$"))
    latest = page.get_by_role("region", name="Changes, newest first")
    expect(latest.get_by_role("row").filter(has_text="entered")).to_have_count(2)
    assert serious_violations(page) == []


def test_an_analyst_reads_audiences_without_edit_controls(page: Page, world: World) -> None:
    analyst = world.person("analyst")
    world.server.api(
        "POST",
        f"/api/v1/workspaces/{analyst.workspace}/audiences",
        json={
            "key": "vips",
            "name": "VIPs",
            "definition": {
                "version": 1,
                "condition": {"type": "trait", "trait": "vip", "operator": "equals", "value": True},
            },
        },
    )
    sign_in(page, analyst)
    page.get_by_role("link", name="Audiences").click()
    expect(page.get_by_role("link", name="VIPs")).to_be_visible()
    expect(page.get_by_role("link", name="New audience")).to_have_count(0)
    page.get_by_role("link", name="VIPs").click()
    expect(page.get_by_role("heading", name="VIPs")).to_be_visible()
    for control in ("Edit", "Recompute", "Delete"):
        expect(page.get_by_role("button", name=control)).to_have_count(0)
        expect(page.get_by_role("link", name=control)).to_have_count(0)
    page.get_by_role("tab", name="Definition").click()
    expect(page.get_by_role("region", name="Definition")).to_contain_text("vip")
    assert serious_violations(page) == []
    page.goto(f"/w/{analyst.workspace}/audiences/new")
    expect(page.get_by_role("heading", name="Your role cannot change audiences")).to_be_visible()
    expect(page.get_by_role("button", name="Save audience")).to_have_count(0)


def test_members_load_as_the_table_scrolls_and_stay_virtualised(page: Page, world: World) -> None:
    marketer = world.person("marketer")
    source = world.source(marketer.workspace)
    people = 2_500  # two and a half pages of 1,000
    batch = [
        {"type": "identify", "userId": f"member{i:04d}", "traits": {"tier": "gold"}}
        for i in range(people)
    ]
    httpx.post(
        f"{world.server.url}/v1/batch", auth=(str(source["write_key"]), ""), json={"batch": batch}
    ).raise_for_status()
    path = f"/api/v1/workspaces/{marketer.workspace}/audiences"
    condition = {"type": "trait", "trait": "tier", "operator": "equals", "value": "gold"}
    world.server.api(
        "POST",
        path,
        json={"key": "gold", "name": "Gold", "definition": {"version": 1, "condition": condition}},
    )
    deadline = time.monotonic() + 60
    # the processor may still be making profiles: recompute until all are in
    while world.server.api("POST", f"{path}/gold/recompute") and (
        world.server.api("GET", f"{path}/gold")["size"] < people
    ):
        assert time.monotonic() < deadline, "the audience did not reach its size"
        time.sleep(0.5)

    sign_in(page, marketer)
    page.goto(f"/w/{marketer.workspace}/audiences/gold")
    members = page.get_by_role("region", name="Members", exact=True).last
    table = members.get_by_role("table")
    status = page.get_by_role("status").filter(has_text="shown")
    expect(status).to_contain_text("1,000 shown, more load as you scroll")
    expect(table).to_have_attribute("aria-rowcount", "1001")  # the header is a row too

    # from the keyboard: the button loads the next page
    page.get_by_role("button", name="Load more").click()
    expect(status).to_contain_text("2,000 shown")
    # scrolling to the end (End in the focused table, as a person does) loads the rest
    members.focus()
    page.keyboard.press("End")
    expect(table).to_have_attribute("aria-rowcount", str(people + 1))
    expect(status).to_contain_text(f"{people:,} shown")
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)
    # 2,500 loaded, a few dozen in the page (the ones in view, and a margin)
    assert members.get_by_role("row").count() < 60

    # with more than one page loaded the list does not poll (that would fetch every page)
    asked: list[str] = []
    page.on(
        "request", lambda request: asked.append(request.url) if "/members" in request.url else None
    )
    page.wait_for_timeout(6_000)
    assert asked == []
    assert serious_violations(page) == []


def test_a_marketer_keeps_a_list_audience_by_hand(page: Page, world: World) -> None:
    marketer = world.person("marketer")
    source = world.source(marketer.workspace)
    client = SegmentClient(str(source["write_key"]), host=world.server.url, sync_mode=True)
    client.identify(user_id="ada", traits={"email": "ada@example.com"})
    client.identify(user_id="bo", traits={"email": "bo@example.com"})
    base = f"/api/v1/workspaces/{marketer.workspace}"

    def known() -> bool:
        found = world.server.api("GET", f"{base}/profiles", params={"identifier": "user_id:bo"})
        return bool(found)

    deadline = time.monotonic() + 20
    while not known():
        assert time.monotonic() < deadline, "bo's profile"
        time.sleep(0.2)

    sign_in(page, marketer)
    page.get_by_role("link", name="Audiences").click()
    page.get_by_role("link", name="New audience").click()
    page.get_by_label("Name", exact=True).fill("VIPs")
    page.get_by_label("Key", exact=True).fill("vips")
    page.get_by_label("A list: people are added and removed by hand, or by journeys").check()
    expect(page.get_by_role("button", name="Preview size and members")).to_have_count(0)
    page.get_by_role("button", name="Save audience").click()

    expect(page.get_by_role("heading", name="VIPs")).to_be_visible()
    assert world.server.api("GET", f"{base}/audiences/vips")["definition"] == {
        "version": 1,
        "list": True,
    }
    expect(page.get_by_role("heading", name="No member yet")).to_be_visible()
    expect(page.get_by_text("Add people above by user id, email")).to_be_visible()
    assert serious_violations(page) == []

    form = page.get_by_role("form", name="Add or remove members")
    form.get_by_label("People are named by").select_option(label="Email")
    form.get_by_label("Emails, one per line").fill("ada@example.com\nBO@example.com\nnobody@x.io")
    form.get_by_role("button", name="Add to the list").click()
    expect(form.get_by_role("status")).to_contain_text("2 added.")
    expect(form.get_by_role("status")).to_contain_text("Not found, so left out")
    expect(form.get_by_label("Emails, one per line")).to_have_value("nobody@x.io")
    members = page.get_by_role("region", name="Members", exact=True)
    expect(members.get_by_role("cell", name="ada", exact=True)).to_be_visible(timeout=10_000)
    expect(members.get_by_role("cell", name="bo", exact=True)).to_be_visible()

    form.get_by_label("People are named by").select_option(label="User id")
    form.get_by_label("User ids, one per line").fill("ada")
    form.get_by_role("button", name="Remove from the list").click()
    expect(form.get_by_role("status")).to_contain_text("1 removed.")
    expect(members.get_by_role("cell", name="ada", exact=True)).to_have_count(0, timeout=10_000)
    expect(members.get_by_role("cell", name="bo", exact=True)).to_be_visible()
    page.get_by_role("tab", name="Changes").click()
    expect(page.get_by_role("region", name="Changes, newest first")).to_contain_text("manual")
    assert serious_violations(page) == []
