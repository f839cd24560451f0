import { describe, expect, it } from "vitest";
import { mappingOf, rolesOf, rowError } from "./words";

describe("the column roles", () => {
  it("read a suggested mapping and give it back", () => {
    const mapping = { user_id: "email", event: "action", fields: { email: "email", plan: "tier" } };
    const roles = rolesOf(mapping, ["email", "action", "plan", "noise"]);
    expect(roles.email?.role).toBe("user_id+field");
    expect(roles.action?.role).toBe("event");
    expect(roles.plan).toEqual({ role: "field", name: "tier" });
    expect(roles.noise?.role).toBe("skip");
    expect(mappingOf(roles)).toEqual(mapping);
  });
});

describe("row errors", () => {
  it("say the row, the column and what is wrong", () => {
    expect(rowError({ row: 2, column: "user_id", message: "is empty: every row needs a userId or an anonymousId" })).toBe(
      "Row 2, column “user_id” is empty: every row needs a userId or an anonymousId.",
    );
    expect(rowError({ row: 3, column: "at", message: "timestamp: not an ISO-8601 timestamp: 'soon'" })).toBe(
      "Row 3, column “at” is not a date and time (write it as 2026-01-31T14:05:00Z)",
    );
    expect(rowError({ row: 4, column: null, message: "row is not valid JSON" })).toBe("Row 4 is not valid JSON.");
  });
});
