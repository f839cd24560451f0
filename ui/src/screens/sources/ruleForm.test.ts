import { describe, expect, it } from "vitest";
import {
  blankCondition,
  blankReply,
  canMiss,
  comparedOf,
  comparison,
  conditionValue,
  defaultText,
  isJsonOf,
  joined,
  joiningOf,
  kindOf,
  partsOf,
  placed,
  placesOf,
  renamed,
  simplified,
  sourceOf,
  testOf,
  textOf,
  withDefault,
  withField,
  withMethod,
} from "./ruleForm";

describe("a value's source", () => {
  it("reads a bare string as a field and keeps the other kinds", () => {
    expect(kindOf("body.id")).toBe("path");
    expect(kindOf({ template: "a:{body.id}" })).toBe("template");
    expect(kindOf({ const: "Paid" })).toBe("const");
    expect(kindOf({ expr: "lower(body.x)" })).toBe("expr");
    expect(kindOf({ const: 42 })).toBe("json");
    expect(kindOf({ const: ["vip"] })).toBe("json");
    expect(kindOf({ const: null })).toBe("json");
    expect(textOf({ const: 42 })).toBe("42");
    expect(textOf({ const: "Paid" })).toBe("Paid");
  });

  it("writes a field as a bare path, blank as nothing, and keeps a default and a number", () => {
    expect(sourceOf("path", "body.id")).toBe("body.id");
    expect(sourceOf("const", "")).toBeUndefined();
    expect(sourceOf("path", "body.id", { path: "body.x", default: "none" })).toEqual({ path: "body.id", default: "none" });
    expect(sourceOf("json", "7", { const: 3 })).toEqual({ const: 7 });
    expect(sourceOf("const", "7", { const: 3 })).toEqual({ const: "7" }); // fixed text is text
    expect(sourceOf("template", "x:{body.id}")).toEqual({ template: "x:{body.id}" });
  });

  it("makes a fixed number, list or object from its JSON, and nothing from text that is not", () => {
    const tags = { const: ["vip", "eu"] };
    expect(textOf(tags)).toBe('["vip","eu"]');
    expect(sourceOf("json", '["vip", "eu", "new"]', tags)).toEqual({ const: ["vip", "eu", "new"] });
    expect(sourceOf("json", '{"tier": 2}')).toEqual({ const: { tier: 2 } });
    expect(sourceOf("json", "true")).toEqual({ const: true });
    expect(sourceOf("json", '"text"')).toEqual({ const: "text" });
    expect(sourceOf("json", '["vip"', tags)).toBeNull(); // not JSON yet: no value
    expect(sourceOf("json", "Paid")).toBeNull();
    expect(sourceOf("json", "")).toBeUndefined(); // blank: the field goes
    expect(sourceOf("const", '["x"]', tags)).toEqual({ const: '["x"]' }); // fixed text stays text
  });

  it("knows a value's JSON however it is spaced", () => {
    expect(isJsonOf('[ "vip",  "eu" ]', ["vip", "eu"])).toBe(true);
    expect(isJsonOf('{"tier": 2}', { tier: 2 })).toBe(true);
    expect(isJsonOf('["vip"]', ["vip", "eu"])).toBe(false);
    expect(isJsonOf('["vip"', ["vip"])).toBe(false);
    expect(isJsonOf("7", "7")).toBe(false); // a number's JSON is not the text
  });
});

describe("a value's default", () => {
  it("is offered where a value can be missing", () => {
    expect(canMiss("path")).toBe(true);
    expect(canMiss("expr")).toBe(true);
    expect(canMiss("template")).toBe(false);
    expect(canMiss("const")).toBe(false);
  });

  it("turns a bare path into a spec and back, and keeps a number a number", () => {
    const given = withDefault("body.source", "website");
    expect(given).toEqual({ path: "body.source", default: "website" });
    expect(defaultText(given)).toBe("website");
    expect(withDefault(given, "")).toBe("body.source");
    expect(withDefault({ expr: "body.n", default: 0 }, "5")).toEqual({ expr: "body.n", default: 5 });
    expect(withDefault({ expr: "body.n", default: 0 }, "")).toEqual({ expr: "body.n" });
    expect(defaultText("body.source")).toBe("");
    expect(defaultText({ path: "body.n", default: 3 })).toBe("3");
  });
});

describe("a condition's value", () => {
  it("is a list for 'is one of', a number for comparisons, nothing for presence", () => {
    expect(conditionValue("in", "a, b ,", undefined)).toEqual(["a", "b"]);
    expect(conditionValue("gt", "10", undefined)).toBe(10);
    expect(conditionValue("exists", "x", "x")).toBeUndefined();
    expect(conditionValue("eq", "5", "text")).toBe("5");
    expect(conditionValue("eq", "5", 4)).toBe(5);
  });
});

describe("fields", () => {
  it("keep their order when set, renamed or removed", () => {
    const set = { event: "body.type", userId: "body.user" };
    expect(Object.keys(withField(set, "event", { const: "Paid" }))).toEqual(["event", "userId"]);
    expect(withField(set, "event", undefined)).toEqual({ userId: "body.user" });
    expect(Object.keys(renamed(set, "event", "name"))).toEqual(["name", "userId"]);
  });
});

describe("the server's problems", () => {
  it("go to the most precise field they name, the rest to the form", () => {
    const config = { rules: [{ type: "track" as const, set: { event: "body.type", "properties.amount": "body.a" } }] };
    const at = placed(
      [
        { field: "rules.0.set.properties.amount", message: "the expression is invalid: x" },
        { field: "rules.0.set.event.ValueSpec", message: "Value error, a value needs exactly one of path" },
        { field: "rules.0.type", message: "Input should be 'track'" },
        { field: "elsewhere", message: "other" },
      ],
      placesOf(config),
    );
    expect(at.get("rules.0.set.properties.amount")).toEqual(["The expression is invalid: x"]);
    expect(at.get("rules.0.set.event")).toEqual(["A value needs exactly one of path"]);
    expect(at.get("rules.0.type")).toEqual(["Input should be 'track'"]);
    expect(at.get("")).toEqual(["Other"]);
  });

  it("about the verification reply go to its field", () => {
    const at = placed(
      [
        { field: "reply.when.path", message: "a path is dotted names" },
        { field: "reply.status", message: "Input should be less than or equal to 299" },
        { field: "transform", message: "the expression is invalid: x" },
      ],
      placesOf({ rules: [] }),
    );
    expect(at.get("reply.when")).toEqual(["A path is dotted names"]);
    expect(at.get("reply.status")).toEqual(["Input should be less than or equal to 299"]);
    expect(at.get("transform")).toEqual(["The expression is invalid: x"]);
    expect(at.has("")).toBe(false);
  });
});

describe("a verification reply", () => {
  it("starts by echoing the query's challenge", () => {
    expect(blankReply()).toEqual({ when: { path: "query.challenge", op: "exists" }, echo: "query.challenge" });
  });

  it("turns a method off and on, in the order GET, POST", () => {
    const reply = blankReply();
    const postOnly = withMethod(reply, "GET", false);
    expect(postOnly.methods).toEqual(["POST"]);
    expect(withMethod(postOnly, "GET", true).methods).toEqual(["GET", "POST"]);
    expect(reply.methods).toBeUndefined(); // not changed in place
  });

  it("keeps its last method", () => {
    const postOnly = withMethod(blankReply(), "GET", false);
    expect(withMethod(postOnly, "POST", false)).toBe(postOnly);
  });
});

describe("a rule's conditions in the form", () => {
  const paid = { path: "body.type", op: "eq" as const, value: "invoice.paid" };
  const live = { path: "body.livemode", op: "eq" as const, value: true };

  it("tells what the form can show from what only the JSON view edits", () => {
    expect(joiningOf(null)).toBe("always");
    expect(joiningOf(paid)).toBe("one");
    expect(joiningOf({ all: [paid, live] })).toBe("all");
    expect(joiningOf({ any: [paid] })).toBe("any");
    expect(joiningOf({ not: { any: [paid, live] } })).toBe("none");
    expect(joiningOf({ not: { path: "body.email", op: "contains", value: "@test" } })).toBe("one");
    expect(joiningOf({ not: { all: [paid, live] } })).toBe("notall");
    expect(joiningOf({ not: { path: "body.total", op: "gt", value: 10 } })).toBe("one");
    // as stored; the form shows them simplified (below)
    expect(joiningOf({ not: paid })).toBe("other");
    expect(joiningOf({ all: [paid, { not: paid }] })).toBe("other");
  });

  it("simplifies negations to what the form shows, for the same requests", () => {
    expect(simplified({ not: paid })).toEqual({ ...paid, op: "ne" });
    expect(simplified({ not: { path: "body.id", op: "exists" } })).toEqual({ path: "body.id", op: "missing" });
    expect(simplified({ not: { path: "body.id", op: "missing", value: "x" } })).toEqual({ path: "body.id", op: "exists" });
    expect(simplified({ not: { not: live } })).toEqual(live);
    expect(simplified({ not: { not: { any: [paid] } } })).toEqual({ any: [paid] });
    const atMost = { not: { path: "body.total", op: "gt" as const, value: 10 } };
    expect(simplified(atMost)).toEqual(atMost); // holds for a missing total too: no opposite
    expect(simplified({ all: [paid, { not: paid }] })).toEqual({ all: [paid, { ...paid, op: "ne" }] });
    expect(joiningOf(simplified({ all: [paid, { not: paid }] }))).toBe("all");
    expect(simplified(paid)).toBe(paid);
  });

  it("shows groups of comparisons inside a list, at any depth", () => {
    const nested = { all: [paid, { any: [live, { not: { any: [paid] } }] }] };
    expect(joiningOf(nested)).toBe("all");
    expect(partsOf(nested)).toEqual(nested.all);
    expect(joiningOf(partsOf(nested)[1])).toBe("any");
    expect(joiningOf({ not: { any: [{ all: [paid, live] }] } })).toBe("none");
  });

  it("keeps the first comparison, not a group, when a list becomes one comparison", () => {
    expect(joined("one", [{ any: [live] }, paid])).toEqual(paid);
    expect(joined("one", [{ any: [live] }])).toEqual(blankCondition());
  });

  it("writes the tests without an opposite operator as the negation of one", () => {
    const notTest = comparison("body.email", "not_contains", "@test.com", undefined);
    expect(notTest).toEqual({ not: { path: "body.email", op: "contains", value: "@test.com" } });
    expect(testOf(notTest)).toBe("not_contains");
    expect(comparedOf(notTest).path).toBe("body.email");
    expect(comparison("body.type", "not_in", "a, b", undefined)).toEqual({ not: { path: "body.type", op: "in", value: ["a", "b"] } });
    expect(comparison("body.id", "exists", "ignored", "x")).toEqual({ path: "body.id", op: "exists" });
    expect(comparison("body.total", "not_lt", "5", undefined)).toEqual({ not: { path: "body.total", op: "lt", value: 5 } });
    expect(testOf({ not: { path: "body.total", op: "gt", value: 10 } })).toBe("not_gt");
    expect(testOf(paid)).toBe("eq");
    expect(testOf({ path: "body.x" })).toBe("eq");
    expect(comparedOf(paid)).toBe(paid);
  });

  it("keeps the comparisons when the joining changes", () => {
    expect(joined("all", partsOf(paid))).toEqual({ all: [paid] });
    expect(joined("any", partsOf({ all: [paid, live] }))).toEqual({ any: [paid, live] });
    expect(joined("one", partsOf({ any: [live, paid] }))).toEqual(live);
    expect(joined("always", [paid])).toBeNull();
    expect(joined("none", partsOf({ all: [paid, live] }))).toEqual({ not: { any: [paid, live] } });
    expect(joined("notall", partsOf({ any: [paid, live] }))).toEqual({ not: { all: [paid, live] } });
    expect(partsOf({ not: { all: [paid, live] } })).toEqual([paid, live]);
    expect(joined("all", partsOf({ not: { any: [paid] } }))).toEqual({ all: [paid] });
    const negated = { not: { path: "body.email", op: "contains" as const, value: "@test" } };
    expect(joined("any", partsOf(negated))).toEqual({ any: [negated] });
  });

  it("starts a blank comparison when none is left to join", () => {
    const made = joined("all", []);
    expect(made?.all).toHaveLength(1);
    expect(made?.all?.[0]?.path).toBe("body.type");
  });
});
