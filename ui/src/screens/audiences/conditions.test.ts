// The builder's conversion: definition JSON -> builder state -> the same JSON, and builder
// state -> JSON -> the same state, for every condition type and every operator.
import { describe, expect, it } from "vitest";
import {
  type Condition,
  emptyQuery,
  fromQuery,
  fromTraitForm,
  type Group,
  OPERATORS,
  type TraitDefinition,
  TRAIT_KINDS,
  toQuery,
  toTraitForm,
} from "./conditions";

/** Builder state without the ids react-querybuilder needs (fresh on every conversion). */
function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIds);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== "id" && key !== "path")
        .map(([key, inner]) => [key, withoutIds(inner)]),
    );
  }
  return value;
}

const buyers: Condition = {
  type: "event",
  event: "Order Completed",
  count: { operator: "at_least", value: 3 },
  window: { within_days: 30 },
  where: [{ property: "total", operator: "greater_than", value: 50 }],
};

const CONDITIONS: Record<string, Condition> = {
  "event, performed at least once in 7 days": {
    type: "event",
    event: "Clicked Button",
    count: { operator: "at_least", value: 1 },
    window: { within_days: 7 },
  },
  "event with count, window and filters": buyers,
  "event not performed between 30 and 90 days ago": {
    type: "event",
    event: "Logged In",
    performed: false,
    window: { between_days: [30, 90] },
  },
  "event written with its defaults": {
    type: "event",
    event: "Signed Up",
    event_type: "track",
    performed: true,
    where: [],
  },
  "any page": { type: "event", event_type: "page" },
  "a named screen": { type: "event", event_type: "screen", event: "Home" },
  "an identify call": { type: "event", event_type: "identify" },
  "a group call": { type: "event", event_type: "group", count: { operator: "equals", value: 0 } },
  funnel: {
    type: "funnel",
    first: { event: "Cart Viewed", where: [{ property: "items", operator: "at_least", value: 2 }] },
    then: { event: "Order Completed" },
    within_hours: 24,
    window: { within_days: 14 },
  },
  "abandoned funnel": {
    type: "funnel",
    first: { event_type: "page", event: "Pricing" },
    then: { event: "Signed Up" },
    within_hours: 48,
    followed: false,
  },
  "member of an audience": { type: "audience", audience: "buyers_30d" },
  "not a member": { type: "audience", audience: "buyers_30d", member: false },
  "consented to a category": { type: "consent", category: "Marketing" },
  "not consented to a category": { type: "consent", category: "Advertising", granted: false },
  "account: any user": { type: "users", match: "any", condition: buyers },
  "account: all users, nested combination": {
    type: "users",
    match: "all",
    condition: {
      type: "or",
      conditions: [
        { type: "trait", trait: "role", operator: "equals", value: "admin" },
        { type: "and", conditions: [{ type: "audience", audience: "active" }] },
      ],
    },
  },
  "and of one": { type: "and", conditions: [buyers] },
  "nested and/or": {
    type: "or",
    conditions: [
      buyers,
      {
        type: "and",
        conditions: [
          { type: "trait", trait: "plan", operator: "not_exists" },
          { type: "or", conditions: [{ type: "audience", audience: "vip", member: false }] },
        ],
      },
    ],
  },
};

// a value of the kind each operator takes
const VALUES: Record<string, unknown> = {
  one: "pro",
  list: ["pro", 2, true],
  number: 0.1,
  text: "@example.com",
  date: "2026-03-01T10:00Z",
  days: 30,
};
for (const { name, takes } of OPERATORS) {
  const condition: Condition =
    takes === "none"
      ? { type: "trait", trait: "address.city", operator: name }
      : { type: "trait", trait: "address.city", operator: name, value: VALUES[takes] as string };
  CONDITIONS[`trait ${name}`] = condition;
  CONDITIONS[`event filter ${name}`] = {
    type: "event",
    event: "Viewed",
    where: [{ property: "price", operator: name, ...(takes === "none" ? {} : { value: VALUES[takes] as string }) }],
  };
}
for (const value of [false, 5, -2.5, ""]) {
  CONDITIONS[`trait equals ${JSON.stringify(value)}`] = { type: "trait", trait: "t", operator: "equals", value };
}

describe("condition JSON -> builder state -> condition JSON", () => {
  for (const [name, condition] of Object.entries(CONDITIONS)) {
    it(`keeps ${name}`, () => {
      const json = JSON.parse(JSON.stringify(condition));
      expect(fromQuery(toQuery(json))).toStrictEqual(json);
    });
  }
});

describe("builder state -> condition JSON -> builder state", () => {
  for (const [name, condition] of Object.entries(CONDITIONS)) {
    it(`keeps ${name}`, () => {
      const state = toQuery(condition);
      // through JSON text, as it goes to the API and comes back
      const back = toQuery(JSON.parse(JSON.stringify(fromQuery(state))));
      expect(withoutIds(back)).toStrictEqual(withoutIds(state));
    });
  }

  it("keeps a new audience's starting state", () => {
    const state = emptyQuery();
    expect(withoutIds(toQuery(fromQuery(state)))).toStrictEqual(withoutIds(state));
  });
});

describe("builder state", () => {
  it("gives combinations as groups and other conditions as rules", () => {
    const state = toQuery(CONDITIONS["nested and/or"]!);
    expect(state.combinator).toBe("or");
    expect(state.rules.map((r) => ("rules" in r ? "group" : r.field))).toEqual(["event", "group"]);
  });

  it("makes an `and` of the root's conditions once a second one is added", () => {
    const state: Group = toQuery(buyers);
    state.rules.push(...toQuery({ type: "audience", audience: "vip" }).rules);
    expect(fromQuery(state)).toEqual({ type: "and", conditions: [buyers, { type: "audience", audience: "vip" }] });
  });

  it("drops a value left from an operator that takes none", () => {
    const state = toQuery({ type: "trait", trait: "plan", operator: "equals", value: "pro" });
    state.rules[0] = { ...state.rules[0]!, operator: "exists" } as Group["rules"][number];
    expect(fromQuery(state)).toEqual({ type: "trait", trait: "plan", operator: "exists" });
  });
});

describe("computed trait definition -> form -> definition", () => {
  for (const { name } of TRAIT_KINDS) {
    it(`keeps ${name}`, () => {
      const definition: TraitDefinition = {
        version: 1,
        kind: name,
        event: "Order Completed",
        event_type: "track",
        window: { between_days: [7, 90] },
        where: [{ property: "currency", operator: "equals", value: "EUR" }],
        ...(name === "counter" ? {} : { property: "total" }),
      };
      expect(fromTraitForm(toTraitForm(definition))).toStrictEqual(definition);
    });
  }

  it("drops the property when the kind becomes a counter", () => {
    const form = toTraitForm({ version: 1, kind: "sum", event: "Paid", property: "total" });
    expect(fromTraitForm({ ...form, kind: "counter" })).toEqual({ version: 1, kind: "counter", event: "Paid" });
  });
});
