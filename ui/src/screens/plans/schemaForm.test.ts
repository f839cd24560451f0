// The form's round trip: a schema shown as rows and saved unchanged is the same schema.
import { describe, expect, it } from "vitest";
import { formable, fromForm, parseSchema, problems, splitValues, toForm } from "./schemaForm";

const ORDER = {
  type: "object",
  additionalProperties: false,
  properties: {
    order_id: { type: "string", description: "Our order number", pattern: "^o[0-9]+$" },
    total: { type: "number", minimum: 0 },
    currency: { enum: ["EUR", "USD"] },
    quantity: { type: "integer", enum: [1, 2, 3] },
    score: { type: ["number", "string"] },
    items: { type: "array", items: { type: "object", properties: { sku: { type: "string" } } } },
  },
  required: ["order_id", "total"],
};

describe("schema form", () => {
  it("gives back the schema it was made from", () => {
    expect(fromForm(toForm(ORDER))).toEqual(ORDER);
  });

  it("keeps required names that declare no property", () => {
    const schema = { required: ["plan"] };
    expect(formable(schema)).toBe(true);
    expect(fromForm(toForm(schema))).toEqual({ type: "object", properties: {}, required: ["plan"] });
  });

  it("makes a property required, and a kept type plain again", () => {
    const form = toForm(ORDER);
    const rows = form.rows.map((row) =>
      row.name === "currency" ? { ...row, required: true } : row.name === "score" ? { ...row, kind: "string" as const } : row,
    );
    const schema = fromForm({ ...form, rows });
    expect(schema.required).toEqual(["order_id", "total", "currency"]);
    expect((schema.properties as Record<string, unknown>).score).toEqual({ type: "string" });
  });

  it("reads allowed values as numbers only where the type is numeric", () => {
    expect(splitValues("1, 2", "integer")).toEqual([1, 2]);
    expect(splitValues("1, 2", "string")).toEqual(["1", "2"]);
  });

  it("says what is wrong in plain words", () => {
    const form = toForm(ORDER);
    const twice = [...form.rows, { ...form.rows[0]! }];
    expect(problems(twice)).toEqual(["Two properties are named “order_id”: rename one."]);
    expect(problems([{ ...form.rows[0]!, name: "" }])).toEqual(["Property 1 has no name."]);
    expect("problem" in parseSchema("{")).toBe(true);
    expect(parseSchema('{"type": "string"}')).toHaveProperty("problem");
    expect(parseSchema('{"properties": {}}')).toEqual({ schema: { properties: {} } });
  });
});
