import { describe, expect, it } from "vitest";
import { parseFields, scheduleOf } from "./mapping";

describe("parseFields", () => {
  it("reads name = column lines and single names", () => {
    expect(parseFields("plan = plan_name\n\n email \n")).toEqual({
      fields: { plan: "plan_name", email: "email" },
      error: null,
    });
  });
  it("names the line it cannot read", () => {
    expect(parseFields("plan = plan_name\n= nothing").error).toBe("Line 2 should read “name = column”.");
    expect(parseFields("a = b = c").error).toBe("Line 1 should read “name = column”.");
  });
});

describe("scheduleOf", () => {
  it("turns minutes into seconds and keeps cron expressions", () => {
    expect(scheduleOf("interval", "15", "")).toEqual({ kind: "interval", seconds: 900 });
    expect(scheduleOf("cron", "", " 0 6 * * * ")).toEqual({ kind: "cron", expression: "0 6 * * *" });
    expect(scheduleOf("manual", "15", "x")).toEqual({ kind: "manual" });
  });
});
