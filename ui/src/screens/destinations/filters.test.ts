import { describe, expect, it } from "vitest";
import { EVERYTHING, type Filter, type Plain, toFilters, toPlain } from "./filters";

const plain: Plain = {
  types: ["track", "page"],
  only: ["Order Completed", "Signed Up"],
  never: ["Debug"],
  removed: ["properties.email", "context.ip"],
  percent: 25,
};

describe("the plain filter form", () => {
  it("writes nothing for everything", () => {
    expect(toFilters(EVERYTHING)).toEqual([]);
    expect(toPlain([])).toEqual(EVERYTHING);
  });

  it("round-trips through the API's filter list", () => {
    const filters = toFilters(plain);
    expect(filters).toEqual([
      { type: "only", when: { field: "type", op: "in", value: ["track", "page"] } },
      {
        type: "only",
        when: {
          any: [
            { field: "type", op: "ne", value: "track" },
            { field: "event", op: "in", value: ["Order Completed", "Signed Up"] },
          ],
        },
      },
      { type: "drop", when: { field: "event", op: "in", value: ["Debug"] } },
      { type: "sample", percent: 25 },
      { type: "drop_properties", paths: ["properties.email", "context.ip"] },
    ]);
    expect(toPlain(filters)).toEqual(plain);
  });

  it("reads a list as the API stores it, keys in any order", () => {
    const stored: Filter[] = [{ when: { value: ["Debug"], op: "in", field: "event" }, type: "drop" }];
    expect(toPlain(stored)).toEqual({ ...EVERYTHING, never: ["Debug"] });
  });

  it("leaves to JSON what it cannot say exactly", () => {
    const cases: Filter[][] = [
      [{ type: "drop", when: { field: "properties.plan", op: "eq", value: "free" } }],
      [{ type: "allow_properties", paths: ["properties.plan"] }],
      [
        { type: "drop", when: { field: "event", op: "in", value: ["A"] } },
        { type: "drop", when: { field: "event", op: "in", value: ["B"] } },
      ],
      [
        { type: "drop_properties", paths: ["properties.email"] },
        { type: "sample", percent: 10 },
      ],
      [{ type: "drop", when: { field: "event", op: "in", value: [] } }],
    ];
    for (const filters of cases) expect(toPlain(filters)).toBeNull();
  });
});
