// @vitest-environment jsdom
// The condition builder as a person uses it: a definition's condition is drawn (types,
// comparisons and values read back through the controls' accessible names), changed by user
// events, and the condition JSON the builder hands on is asserted; drawn again from that JSON,
// the builder shows the same controls with the same values (the round trip, rendered).
import { cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { ConditionBuilder } from "./Builder";
import { type Condition, emptyQuery, fromQuery, toQuery } from "./conditions";

afterEach(cleanup);

const AUDIENCES = ["buyers", "churned"];

/** The builder as the audience form holds it: state from the JSON, JSON from every change. */
function Harness({ condition, subject, seen }: { condition: Condition; subject: "user" | "account"; seen: Condition[] }) {
  const [query, setQuery] = useState(() => toQuery(condition));
  return (
    <ConditionBuilder
      query={query}
      onChange={(next) => {
        setQuery(next);
        seen.push(fromQuery(next));
      }}
      subject={subject}
      audiences={AUDIENCES}
    />
  );
}

function draw(condition: Condition, subject: "user" | "account" = "user") {
  const seen: Condition[] = [];
  const user = userEvent.setup({ delay: null });
  const view = render(<Harness condition={condition} subject={subject} seen={seen} />);
  /** The condition JSON the builder handed on last. */
  const last = (): Condition | undefined => seen[seen.length - 1];
  return { user, view, last };
}

/** What a control shows: a select's chosen option, an input's value. */
function shown(control: HTMLElement): string {
  if (control instanceof HTMLSelectElement) return control.selectedOptions[0]?.textContent ?? "";
  return (control as HTMLInputElement).value;
}

function select(name: string): HTMLElement {
  return screen.getByRole("combobox", { name });
}
function text(name: string): HTMLElement {
  return screen.getByRole("textbox", { name });
}
function number(name: string): HTMLElement {
  return screen.getByRole("spinbutton", { name });
}

/** Every control of the builder, in order, as "accessible name = what it shows". */
function controls(): string[] {
  const found = [
    ...screen.queryAllByRole("combobox"),
    ...screen.queryAllByRole("textbox"),
    ...screen.queryAllByRole("spinbutton"),
  ];
  found.sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  return found.map((control) => {
    const name = control.getAttribute("aria-label");
    expect(name, control.outerHTML).toBeTruthy();
    return `${name} = ${shown(control)}`;
  });
}

/** Drawn again from ``condition``: the same controls showing the same values. */
function expectSameWhenRedrawn(condition: Condition, before: string[], subject: "user" | "account" = "user") {
  cleanup();
  const again = draw(condition, subject);
  expect(controls()).toEqual(before);
  return again;
}

/** Replace a number input's content, as a person selecting it and typing would. */
async function retype(user: ReturnType<typeof userEvent.setup>, control: HTMLElement, value: string) {
  await user.tripleClick(control);
  await user.keyboard(value);
}

describe("an event condition", () => {
  const buyers: Condition = {
    type: "event",
    event: "Order Completed",
    count: { operator: "at_least", value: 3 },
    window: { within_days: 30 },
    where: [{ property: "total", operator: "greater_than", value: 50 }],
  };

  it("shows its event, count, window and filters", () => {
    draw(buyers);
    expect(shown(select("Condition 1: type"))).toBe("Performed an event");
    expect(shown(select("Condition 1: kind"))).toBe("an event");
    expect(shown(text("Condition 1: name"))).toBe("Order Completed");
    expect(shown(select("Condition 1: how often"))).toBe("a number of times");
    expect(shown(select("Condition 1: times"))).toBe("at least");
    expect(shown(number("Condition 1: number of times"))).toBe("3");
    expect(shown(select("Condition 1: when"))).toBe("in the last … days");
    expect(shown(number("Condition 1: when: days"))).toBe("30");
    expect(shown(text("Condition 1, filter 1: property"))).toBe("total");
    expect(shown(select("Condition 1, filter 1: comparison"))).toBe("is more than");
    expect(shown(number("Condition 1, filter 1: value"))).toBe("50");
    // one condition at the root: no comparison of its own, and nothing is added around it
    expect(screen.queryByRole("combobox", { name: "Condition 1: comparison" })).toBeNull();
  });

  it("hands on its count, window and filters as changed, and shows them again", async () => {
    const { user, last } = draw(buyers);
    await user.selectOptions(select("Condition 1: times"), "is");
    await retype(user, number("Condition 1: number of times"), "5");
    await user.selectOptions(select("Condition 1: when"), "between … and … days ago");
    await retype(user, number("Condition 1: when: from (days ago, nearest)"), "7");
    await user.selectOptions(select("Condition 1, filter 1: comparison"), "is at most");
    await retype(user, number("Condition 1, filter 1: value"), "20");
    await user.click(screen.getByRole("button", { name: "+ Property filter (Condition 1)" }));
    await user.type(text("Condition 1, filter 2: property"), "currency");
    await user.type(text("Condition 1, filter 2: value"), "EUR");
    await user.tab();

    const condition = last()!;
    expect(condition).toEqual({
      type: "event",
      event: "Order Completed",
      count: { operator: "equals", value: 5 },
      window: { between_days: [7, 90] },
      where: [
        { property: "total", operator: "at_most", value: 20 },
        { property: "currency", operator: "equals", value: "EUR" },
      ],
    });
    const before = controls();
    expect(before).toContain("Condition 1, filter 2: value = EUR");
    expectSameWhenRedrawn(condition, before);
  });

  it("is built from an empty audience: an event never done, on pages", async () => {
    const { user, last } = draw(fromQuery(emptyQuery()));
    expect(shown(text("Condition 1: name"))).toBe("");
    await user.selectOptions(select("Condition 1: kind"), "a page view");
    await user.type(text("Condition 1: name"), "Pricing");
    await user.selectOptions(select("Condition 1: how often"), "never");
    await user.selectOptions(select("Condition 1: when"), "in the last … days");
    await retype(user, number("Condition 1: when: days"), "14");

    const condition = last()!;
    expect(condition).toEqual({
      type: "event",
      event_type: "page",
      event: "Pricing",
      performed: false,
      window: { within_days: 14 },
    });
    expectSameWhenRedrawn(condition, controls());
  });
});

describe("a trait condition", () => {
  it("shows its comparison and typed value, and hands on a new comparison without a stale value", async () => {
    const adults: Condition = { type: "trait", trait: "age", operator: "at_least", value: 18 };
    const { user, last } = draw(adults);
    expect(shown(select("Condition 1: type"))).toBe("Has a trait");
    expect(shown(text("Condition 1: trait"))).toBe("age");
    expect(shown(select("Condition 1: comparison"))).toBe("is at least");
    expect(shown(number("Condition 1: value"))).toBe("18");

    await user.selectOptions(select("Condition 1: comparison"), "is not set");
    expect(screen.queryByRole("spinbutton", { name: "Condition 1: value" })).toBeNull();
    expect(last()).toEqual({ type: "trait", trait: "age", operator: "not_exists" });
    expectSameWhenRedrawn(last()!, controls());
  });

  it("keeps a value's JSON type: true or false, a number, a list", async () => {
    const vip: Condition = { type: "trait", trait: "vip", operator: "equals", value: true };
    const { user, last } = draw(vip);
    expect(shown(select("Condition 1: value: type"))).toBe("true or false");
    expect(shown(select("Condition 1: value"))).toBe("true");

    await user.selectOptions(select("Condition 1: value"), "false");
    expect(last()).toEqual({ type: "trait", trait: "vip", operator: "equals", value: false });

    await user.clear(text("Condition 1: trait"));
    await user.type(text("Condition 1: trait"), "plan");
    await user.selectOptions(select("Condition 1: comparison"), "is one of");
    await user.selectOptions(select("Condition 1: value: type"), "text");
    const list = text("Condition 1: value (separated by commas)");
    await user.clear(list);
    await user.type(list, "pro, team");
    await user.tab();
    const condition = last()!;
    expect(condition).toEqual({ type: "trait", trait: "plan", operator: "equals_any", value: ["pro", "team"] });
    expectSameWhenRedrawn(condition, controls());
    expect(shown(text("Condition 1: value (separated by commas)"))).toBe("pro, team");
  });
});

describe("an audience condition", () => {
  it("shows the audience named and hands on a membership and another audience", async () => {
    const { user, last } = draw({ type: "audience", audience: "buyers" });
    expect(shown(select("Condition 1: type"))).toBe("Is in an audience");
    expect(shown(select("Condition 1: membership"))).toBe("is a member of");
    const audience = select("Condition 1: audience");
    expect(shown(audience)).toBe("buyers");
    expect(within(audience).getAllByRole("option").map((o) => o.textContent)).toEqual([
      "choose an audience",
      "buyers",
      "churned",
    ]);

    await user.selectOptions(select("Condition 1: membership"), "is not a member of");
    await user.selectOptions(audience, "churned");
    const condition = last()!;
    expect(condition).toEqual({ type: "audience", audience: "churned", member: false });
    expectSameWhenRedrawn(condition, controls());
  });

  it("keeps an audience no longer offered rather than dropping it", () => {
    draw({ type: "audience", audience: "gone" });
    expect(shown(select("Condition 1: audience"))).toBe("gone");
  });
});

describe("a consent condition", () => {
  it("shows the category and hands on a refusal and another category", async () => {
    const { user, last } = draw({ type: "consent", category: "Marketing" });
    expect(shown(select("Condition 1: type"))).toBe("Has given consent");
    expect(shown(select("Condition 1: consent"))).toBe("has consented to");
    expect(shown(text("Condition 1: consent category"))).toBe("Marketing");

    await user.selectOptions(select("Condition 1: consent"), "has not consented to");
    await user.clear(text("Condition 1: consent category"));
    await user.type(text("Condition 1: consent category"), "Ads");
    const condition = last()!;
    expect(condition).toEqual({ type: "consent", category: "Ads", granted: false });
    expectSameWhenRedrawn(condition, controls());
  });
});

describe("a funnel condition", () => {
  const abandoned: Condition = {
    type: "funnel",
    first: { event: "Checkout Started" },
    then: { event: "Order Completed" },
    within_hours: 48,
    followed: false,
    window: { within_days: 30 },
  };

  it("shows both steps, the gap and the window", () => {
    draw(abandoned);
    expect(shown(select("Condition 1: type"))).toBe("Did one thing, then another");
    expect(shown(text("Condition 1, first: name"))).toBe("Checkout Started");
    expect(shown(select("Condition 1, first: when"))).toBe("in the last … days");
    expect(shown(number("Condition 1, first: when: days"))).toBe("30");
    expect(shown(select("Condition 1: then"))).toBe("not followed by");
    expect(shown(text("Condition 1, then: name"))).toBe("Order Completed");
    expect(shown(number("Condition 1: within … hours"))).toBe("48");
  });

  it("hands on the steps, the gap and the window as changed", async () => {
    const { user, last } = draw(abandoned);
    await user.selectOptions(select("Condition 1: then"), "followed by");
    await retype(user, number("Condition 1: within … hours"), "12");
    await user.selectOptions(select("Condition 1, first: when"), "at any time");
    await user.click(screen.getByRole("button", { name: "+ Property filter (Condition 1, then)" }));
    await user.type(text("Condition 1, then, filter 1: property"), "coupon");
    await user.selectOptions(select("Condition 1, then, filter 1: comparison"), "is set");
    const condition = last()!;
    expect(condition).toEqual({
      type: "funnel",
      first: { event: "Checkout Started" },
      then: { event: "Order Completed", where: [{ property: "coupon", operator: "exists" }] },
      within_hours: 12,
    });
    expectSameWhenRedrawn(condition, controls());
  });
});

describe("groups", () => {
  const nested: Condition = {
    type: "and",
    conditions: [
      { type: "audience", audience: "buyers" },
      {
        type: "or",
        conditions: [
          { type: "trait", trait: "plan", operator: "exists" },
          { type: "event", event: "Logged In", performed: false, window: { between_days: [30, 90] } },
        ],
      },
    ],
  };

  it("shows each group's match and its conditions by position", () => {
    draw(nested);
    expect(shown(select("Group: match"))).toBe("all of");
    expect(shown(select("Condition 1: type"))).toBe("Is in an audience");
    expect(shown(select("Group 2: match"))).toBe("any of");
    expect(shown(select("Condition 2.1: comparison"))).toBe("is set");
    expect(screen.queryByRole("textbox", { name: "Condition 2.1: value" })).toBeNull();
    expect(shown(select("Condition 2.2: how often"))).toBe("never");
    expect(shown(number("Condition 2.2: when: from (days ago, nearest)"))).toBe("30");
    expect(shown(number("Condition 2.2: when: to (days ago, farthest)"))).toBe("90");
  });

  it("hands on a changed match, a removed condition and one added to a group", async () => {
    const { user, last } = draw(nested);
    await user.selectOptions(select("Group: match"), "any of");
    await user.selectOptions(select("Group 2: match"), "all of");
    await user.click(screen.getAllByRole("button", { name: "+ Condition" })[1]!);
    // a new condition is an event to name; made a trait condition, it starts as "is"
    await user.selectOptions(select("Condition 2.3: type"), "Has a trait");
    expect(shown(select("Condition 2.3: comparison"))).toBe("is");
    await user.type(text("Condition 2.3: trait"), "address.city");
    await user.type(text("Condition 2.3: value"), "Lyon");
    await user.tab();
    await user.click(screen.getAllByRole("button", { name: "×" })[0]!);

    const condition = last()!;
    expect(condition).toEqual({
      type: "or",
      conditions: [
        {
          type: "and",
          conditions: [
            { type: "trait", trait: "plan", operator: "exists" },
            { type: "event", event: "Logged In", performed: false, window: { between_days: [30, 90] } },
            { type: "trait", trait: "address.city", operator: "equals", value: "Lyon" },
          ],
        },
      ],
    });
    expectSameWhenRedrawn(condition, controls());
  });

  it("turns one condition into a combination: a rule and a group added by a person", async () => {
    const { user, last } = draw({ type: "event", event: "Signed Up" });
    await user.click(screen.getByRole("button", { name: "+ Condition" }));
    await user.selectOptions(select("Condition 2: type"), "Did one thing, then another");
    await user.type(text("Condition 2, first: name"), "Viewed Pricing");
    await user.type(text("Condition 2, then: name"), "Started Trial");
    await user.click(screen.getByRole("button", { name: "+ Group" }));
    await user.selectOptions(select("Group 3: match"), "any of");
    const inGroup = () => screen.getAllByRole("button", { name: "+ Condition" })[1]!;
    await user.click(inGroup());
    await user.selectOptions(select("Condition 3.1: type"), "Is in an audience");
    await user.selectOptions(select("Condition 3.1: audience"), "buyers");
    await user.click(inGroup());
    await user.selectOptions(select("Condition 3.2: kind"), "an identify call");

    const condition = last()!;
    expect(condition).toEqual({
      type: "and",
      conditions: [
        { type: "event", event: "Signed Up" },
        { type: "funnel", first: { event: "Viewed Pricing" }, then: { event: "Started Trial" }, within_hours: 24 },
        {
          type: "or",
          conditions: [
            { type: "audience", audience: "buyers" },
            { type: "event", event_type: "identify" },
          ],
        },
      ],
    });
    const before = controls();
    expectSameWhenRedrawn(condition, before);
  });
});

describe("a users condition (account audiences)", () => {
  const retailers: Condition = {
    type: "and",
    conditions: [
      { type: "trait", trait: "industry", operator: "equals", value: "retail" },
      { type: "users", match: "all", condition: { type: "event", event: "Logged In", window: { within_days: 14 } } },
    ],
  };

  it("is offered in account audiences only", () => {
    draw({ type: "event", event: "Signed Up" });
    const people = within(select("Condition 1: type")).getAllByRole("option").map((o) => o.textContent);
    expect(people).not.toContain("Its users (account audience)");
    cleanup();
    draw({ type: "event", event: "Signed Up" }, "account");
    const accounts = within(select("Condition 1: type")).getAllByRole("option").map((o) => o.textContent);
    expect(accounts).toContain("Its users (account audience)");
  });

  it("shows its users' condition in a builder of its own", () => {
    draw(retailers, "account");
    expect(shown(select("Condition 2: type"))).toBe("Its users (account audience)");
    expect(shown(select("Condition 2: which users"))).toBe("all of its users");
    expect(shown(text("Condition 2, users: Condition 1: name"))).toBe("Logged In");
    expect(shown(number("Condition 2, users: Condition 1: when: days"))).toBe("14");
    // no users condition inside a users condition
    const inner = within(select("Condition 2, users: Condition 1: type")).getAllByRole("option");
    expect(inner.map((o) => o.textContent)).not.toContain("Its users (account audience)");
  });

  it("hands on the users' match and their condition as changed", async () => {
    const { user, last } = draw(retailers, "account");
    await user.selectOptions(select("Condition 2: which users"), "any of its users");
    await user.selectOptions(select("Condition 2, users: Condition 1: how often"), "a number of times");
    await retype(user, number("Condition 2, users: Condition 1: number of times"), "3");
    await user.click(screen.getAllByRole("button", { name: "+ Condition" })[1]!);
    await user.selectOptions(select("Condition 2, users: Condition 2: type"), "Has a trait");
    await user.type(text("Condition 2, users: Condition 2: trait"), "role");
    await user.type(text("Condition 2, users: Condition 2: value"), "admin");
    await user.tab();
    await user.selectOptions(select("Condition 2, users: Group: match"), "any of");

    const condition = last()!;
    expect(condition).toEqual({
      type: "and",
      conditions: [
        { type: "trait", trait: "industry", operator: "equals", value: "retail" },
        {
          type: "users",
          match: "any",
          condition: {
            type: "or",
            conditions: [
              { type: "event", event: "Logged In", window: { within_days: 14 }, count: { operator: "at_least", value: 3 } },
              { type: "trait", trait: "role", operator: "equals", value: "admin" },
            ],
          },
        },
      ],
    });
    expectSameWhenRedrawn(condition, controls(), "account");
  });
});
