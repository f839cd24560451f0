"""The Privacy section, through the web app only: a privacy admin deletes a person and follows
it to the end, exports what is held about a person and downloads it, adds a PII rule and tests
it, sets a retention window and runs a dry run; roles without privacy:write see no action."""

from __future__ import annotations

import json
import uuid

import httpx
from playwright.sync_api import Page, expect

from tests.ui.conftest import World, serious_violations, sign_in

# the regulation job and the exporter work in the background: their end is awaited this long
SLOW = 60_000


def test_a_privacy_admin_deletes_a_person_and_sees_it_finish(page: Page, world: World) -> None:
    admin = world.person("privacy_admin")
    source = world.source(admin.workspace)
    gone = f"gone-{uuid.uuid4().hex[:6]}"
    world.track(str(source["write_key"]), "Signed Up", user_id=gone)
    world.profile(admin.workspace, f"user_id:{gone}")
    sign_in(page, admin)
    page.get_by_role("link", name="Deletion & suppression").click()
    expect(page.get_by_role("heading", name="No request yet")).to_be_visible()

    page.get_by_role("button", name="Delete or suppress a person").click()
    form = page.get_by_role("form", name="Delete or suppress a person")
    expect(form.get_by_label("Delete and stop collecting")).to_be_checked()
    form.get_by_role("button", name="Delete and stop collecting").click()
    expect(form.get_by_role("alert")).to_have_text("Type at least one id: one a line.")
    form.get_by_label("Ids, one a line").fill(f"{gone}\n")
    asked: list[str] = []

    def accept(dialog: object) -> None:
        asked.append(dialog.message)  # type: ignore[attr-defined]
        dialog.accept()  # type: ignore[attr-defined]

    page.on("dialog", accept)
    form.get_by_role("button", name="Delete and stop collecting").click()
    expect(form).to_have_count(0)
    assert "cannot be undone" in asked[0]

    requests = page.get_by_role("table", name="Deletion and suppression requests")
    row = requests.get_by_role("row").nth(1)
    expect(row).to_contain_text("Delete and stop collecting")
    expect(row).to_contain_text("1 person")
    expect(row.get_by_role("cell").nth(3)).to_have_text("Done", timeout=SLOW)
    expect(row.get_by_role("cell").nth(4)).not_to_have_text("—")
    row.get_by_role("button", name="Show details").click()
    person = page.get_by_role("table", name="Per person").get_by_role("row").nth(1)
    expect(person).to_contain_text("Done")
    expect(person).to_contain_text("Erased: ")
    destinations = page.get_by_role("table", name="Per destination")
    expect(destinations.get_by_role("row").filter(has_text="Headwater's own data")).to_contain_text(
        "Done"
    )

    lookup = page.get_by_role("region", name="Is this person suppressed?")
    lookup.get_by_label("Id to look up").fill(gone)
    lookup.get_by_role("button", name="Look up").click()
    expect(lookup.get_by_role("status")).to_contain_text("Yes: messages from the user id")
    lookup.get_by_label("Id to look up").fill("someone-else")
    lookup.get_by_role("button", name="Look up").click()
    expect(lookup.get_by_role("status")).to_contain_text("No: messages from the user id")

    search = page.get_by_role("search", name="Requests about one person")
    search.get_by_label("Their id").fill(gone)
    search.get_by_role("button", name="Find").click()
    expect(requests.get_by_role("row").nth(1)).to_contain_text(f"user id {gone}")
    assert serious_violations(page) == []


def test_a_privacy_admin_exports_a_person_and_downloads_it(page: Page, world: World) -> None:
    admin = world.person("privacy_admin", pii_read=True)
    source = world.source(admin.workspace)
    person = f"asks-{uuid.uuid4().hex[:6]}"
    world.track(str(source["write_key"]), "Order Completed", user_id=person)
    world.profile(admin.workspace, f"user_id:{person}")
    sign_in(page, admin)
    page.get_by_role("link", name="Subject access").click()
    expect(page.get_by_role("heading", name="No export yet")).to_be_visible()
    page.get_by_label("The person's id").fill(person)
    page.get_by_role("button", name="Export", exact=True).click()
    exports = page.get_by_role("table", name="Subject access exports")
    row = exports.get_by_role("row").filter(has_text=person)
    expect(row).to_contain_text("Ready", timeout=SLOW)
    expect(row).to_contain_text("1 event,")  # counted in words, not "1 events"
    with page.expect_download() as downloading:
        row.get_by_role("link", name="JSON").click()
    document = json.loads(downloading.value.path().read_text(encoding="utf-8"))
    assert person in json.dumps(document)
    assert "Order Completed" in json.dumps(document)
    with page.expect_download() as downloading:
        row.get_by_role("link", name="CSV (ZIP)").click()
    assert downloading.value.path().read_bytes()[:2] == b"PK"
    assert serious_violations(page) == []


def test_a_privacy_admin_adds_a_pii_rule_and_tests_it(page: Page, world: World) -> None:
    admin = world.person("privacy_admin")
    sign_in(page, admin)
    page.get_by_role("link", name="PII rules").click()
    expect(page.get_by_role("heading", name="No rule yet")).to_be_visible()
    page.get_by_role("button", name="Add a rule").click()
    form = page.get_by_role("form", name="New PII rule")
    form.get_by_role("button", name="Add the rule").click()
    expect(form.get_by_role("alert")).to_contain_text("Say which fields the rule is about")
    form.get_by_label("Name").fill("Emails")
    form.get_by_label("Field", exact=True).fill("traits.email")
    form.get_by_label("What happens to them").select_option("hash")
    form.get_by_role("button", name="Add the rule").click()
    rules = page.get_by_role("table", name="PII rules")
    expect(rules.get_by_role("row").filter(has_text="Emails")).to_contain_text("field traits.email")
    expect(rules.get_by_role("row").filter(has_text="Emails")).to_contain_text("Hash")
    rules.get_by_role("button", name="Turn off the rule Emails").click()
    expect(
        rules.get_by_role("row").filter(has_text="Emails").get_by_role("cell").nth(5)
    ).to_have_text("Off")
    rules.get_by_role("button", name="Turn on the rule Emails").click()
    expect(
        rules.get_by_role("row").filter(has_text="Emails").get_by_role("cell").nth(5)
    ).to_have_text("On")

    page.get_by_role("tab", name="Test the rules").click()
    page.get_by_role("button", name="Test", exact=True).click()
    decided = page.get_by_role("table", name="Fields decided")
    expect(decided.get_by_role("row").filter(has_text="traits.email")).to_contain_text("Hash")
    expect(decided.get_by_role("row").filter(has_text="traits.email")).to_contain_text("Emails")
    page.get_by_label("Sample message (JSON)").fill("{not json")
    page.get_by_role("button", name="Test", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("not valid JSON")

    page.get_by_role("tab", name="Rules", exact=True).click()
    page.on("dialog", lambda dialog: dialog.accept())
    rules.get_by_role("row").filter(has_text="Emails").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="No rule yet")).to_be_visible()
    page.get_by_role("tab", name="Inbox").click()
    expect(page.get_by_role("heading", name="Nothing to classify")).to_be_visible()
    assert serious_violations(page) == []


def test_a_field_that_looks_personal_is_classified_from_the_inbox(page: Page, world: World) -> None:
    admin = world.person("privacy_admin")
    source = world.source(admin.workspace)
    sent = httpx.post(
        f"{world.server.url}/v1/identify",
        auth=(str(source["write_key"]), ""),
        json={"userId": "u-9", "traits": {"email": "x", "reach": "ana@example.com"}},
        timeout=30,
    )
    assert sent.status_code == 200, sent.text
    sign_in(page, admin)
    page.goto(f"/w/{admin.workspace}/privacy/pii?tab=inbox")
    inbox = page.get_by_role("table", name="Fields that look personal and that no rule covers yet")
    row = inbox.get_by_role("row").filter(has_text="traits.email")
    expect(row).to_contain_text("text", timeout=SLOW)
    expect(row).to_contain_text("Its name looks personal")
    reach = inbox.get_by_role("row").filter(has_text="traits.reach")
    expect(reach).to_contain_text("Values look like: email address")
    reach.get_by_role("button", name="Not personal").click()
    expect(reach).to_have_count(0)
    row.get_by_role("combobox").select_option("redact")
    row.get_by_role("button", name="Make a rule").click()
    expect(page.get_by_role("heading", name="Nothing to classify")).to_be_visible()
    page.get_by_role("tab", name="Rules", exact=True).click()
    rules = page.get_by_role("table", name="PII rules")
    expect(rules.get_by_role("row").filter(has_text="traits.email")).to_contain_text("Redact")


def test_a_privacy_admin_sets_a_retention_window_and_runs_a_dry_run(
    page: Page, world: World
) -> None:
    admin = world.person("privacy_admin")
    world.source(admin.workspace)
    sign_in(page, admin)
    page.get_by_role("link", name="Retention").click()
    expect(page.get_by_role("heading", name="No window yet")).to_be_visible()
    page.get_by_role("button", name="Add a window").click()
    page.get_by_label("Days kept of row 1").fill("0")
    page.get_by_role("button", name="Save the windows").click()
    expect(page.get_by_role("alert")).to_contain_text("whole number from 1 to 36,500")
    page.get_by_label("Days kept of row 1").fill("30")
    page.get_by_role("button", name="Add a window").click()
    page.get_by_label("Data of row 2").select_option("rejections")
    page.get_by_label("Source of row 2").select_option(label="Source: Website")
    page.get_by_label("Days kept of row 2").fill("7")
    page.get_by_role("button", name="Save the windows").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Days kept of row 2")).to_have_value("7")
    expect(page.get_by_label("Data of row 2")).to_have_value("rejections")

    page.get_by_role("button", name="Dry run").click()
    run = page.get_by_role("region", name="What would be removed now")
    expect(run.get_by_role("status")).to_contain_text("Nothing would be removed now")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Apply now").click()
    expect(run.get_by_role("status")).to_contain_text("Done: 0 rows removed.")
    assert serious_violations(page) == []


def test_privacy_is_offered_only_as_far_as_the_role_allows(page: Page, world: World) -> None:
    admin = world.person("admin")  # privacy:read, not privacy:write
    sign_in(page, admin)
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Retention")).to_be_visible()
    navigation.get_by_role("link", name="Deletion & suppression").click()
    expect(page.get_by_role("heading", name="No request yet")).to_be_visible()
    expect(page.get_by_role("button", name="Delete or suppress a person")).to_have_count(0)
    navigation.get_by_role("link", name="Retention").click()
    expect(page.get_by_role("button", name="Apply now")).to_have_count(0)
    expect(page.get_by_role("button", name="Dry run")).to_be_visible()
    navigation.get_by_role("link", name="PII rules").click()
    expect(page.get_by_role("heading", name="No rule yet")).to_be_visible()
    expect(page.get_by_role("button", name="Add a rule")).to_have_count(0)

    marketer = world.person("marketer")
    page.context.clear_cookies()
    sign_in(page, marketer)
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Audiences")).to_be_visible()
    expect(navigation.get_by_role("link", name="Deletion & suppression")).to_have_count(0)


def test_long_lists_of_requests_and_exports_load_more_on_demand(page: Page, world: World) -> None:
    admin = world.person("privacy_admin")
    base = f"/api/v1/workspaces/{admin.workspace}"
    for n in range(51):
        world.server.api(
            "POST",
            f"{base}/regulations",
            json={
                "regulationType": "SUPPRESS_ONLY",
                "subjectType": "USER_ID",
                "subjectIds": [f"quiet-{n}"],
            },
        )
        world.server.api(
            "POST",
            f"{base}/privacy/exports",
            json={"subject_type": "USER_ID", "subject_id": f"asks-{n}"},
        )
    sign_in(page, admin)
    page.get_by_role("link", name="Deletion & suppression").click()
    requests = page.get_by_role("table", name="Deletion and suppression requests")
    # 50 a page, a header row above them
    expect(requests.get_by_role("row")).to_have_count(51)
    page.get_by_role("button", name="Load more").click()
    expect(requests.get_by_role("row")).to_have_count(52)
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)

    page.get_by_role("link", name="Subject access").click()
    exports = page.get_by_role("table", name="Subject access exports")
    expect(exports.get_by_role("row")).to_have_count(51)
    page.get_by_role("button", name="Load more").click()
    expect(exports.get_by_role("row")).to_have_count(52)
    expect(exports).to_contain_text("asks-0")
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)
