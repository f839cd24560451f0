import { describe, expect, it } from "vitest";
import { fieldsOf, itemLabel, type JsonSchema, labelOf, readScalar, withValue } from "./schema";

const DELAY: JsonSchema = {
  type: "object",
  properties: {
    duration: { anyOf: [{ $ref: "#/$defs/Duration" }, { type: "null" }], default: null },
    until_trait: { anyOf: [{ type: "string", minLength: 1 } as JsonSchema, { type: "null" }] },
    before: { type: "boolean", default: false },
  },
  $defs: { Duration: { type: "object", properties: { days: { type: "integer" } } } },
};

const WAIT: JsonSchema = {
  type: "object",
  required: ["events", "condition"],
  properties: {
    events: { type: "array", items: { $ref: "#/$defs/Awaited" } },
    condition: { oneOf: [{ $ref: "#/$defs/A" }], discriminator: { propertyName: "type" } },
    method: { type: "string", enum: ["POST", "PUT"] },
    headers: { type: "object", additionalProperties: { type: "string" } },
    value: {},
  },
  $defs: { Awaited: { type: "object", properties: { port: { type: "string" } } } },
};

describe("config schemas as fields", () => {
  it("reads optional references, strings and booleans", () => {
    expect(fieldsOf(DELAY, DELAY).map((f) => [f.name, f.label, f.kind, f.optional])).toEqual([
      ["duration", "Duration", "object", true],
      ["until_trait", "Until trait", "string", true],
      ["before", "Before", "boolean", true],
    ]);
    expect(fieldsOf(DELAY, DELAY)[0]?.schema.properties).toHaveProperty("days");
  });

  it("reads lists of objects, conditions, enums, free objects and free values", () => {
    expect(fieldsOf(WAIT, WAIT).map((f) => [f.name, f.kind, f.optional])).toEqual([
      ["events", "list", false],
      ["condition", "condition", false],
      ["method", "enum", true],
      ["headers", "json", true],
      ["value", "scalar", true],
    ]);
    expect(labelOf("op")).toBe("Operation");
    expect([itemLabel("Branches"), itemLabel("Headers")]).toEqual(["Branch", "Headers item"]);
  });
});

describe("values typed in", () => {
  it("become booleans, numbers, lists or text", () => {
    expect([readScalar("true"), readScalar("12.5"), readScalar("[1, 2]"), readScalar("pro"), readScalar(" ")]).toEqual([
      true,
      12.5,
      [1, 2],
      "pro",
      undefined,
    ]);
  });

  it("leave a key out when emptied", () => {
    expect(withValue({ a: 1, b: 2 }, "a", undefined)).toEqual({ b: 2 });
    expect(withValue({}, "a", 0)).toEqual({ a: 0 });
  });
});
