import { describe, expect, it } from "vitest";
import { parseSubjects, regulationWords, stillWorking, subjectsProblem, whyPersonal, windowsOut } from "./words";

describe("the deletion form's ids", () => {
  it("takes one a line or comma separated, trimmed, without blanks or repeats", () => {
    expect(parseSubjects(" u-1\n\nu-2, u-3\nu-1 \n")).toEqual(["u-1", "u-2", "u-3"]);
  });

  it("says what is wrong in plain words", () => {
    expect(subjectsProblem([])).toBe("Type at least one id: one a line.");
    expect(subjectsProblem(Array.from({ length: 5001 }, (_, i) => `u-${i}`))).toMatch(/At most 5,000/);
    expect(subjectsProblem(["x".repeat(1001)])).toMatch(/longer than an id/);
    expect(subjectsProblem(["u-1"])).toBeNull();
  });
});

describe("regulation words", () => {
  it("names each type the way the form does", () => {
    expect(regulationWords("SUPPRESS_WITH_DELETE")).toBe("Delete and stop collecting");
    expect(regulationWords("UNSUPPRESS")).toBe("Collect again");
  });

  it("polls only what may still change", () => {
    expect(stillWorking("RUNNING")).toBe(true);
    expect(stillWorking("queued")).toBe(true);
    expect(stillWorking("FINISHED")).toBe(false);
    expect(stillWorking("done")).toBe(false);
  });
});

describe("retention windows", () => {
  it("sends whole days per store and source", () => {
    expect(
      windowsOut([
        { store: "events", source_id: null, days: "30" },
        { store: "events", source_id: 4, days: " 7 " },
      ]),
    ).toEqual({
      windows: [
        { store: "events", source_id: null, days: 30 },
        { store: "events", source_id: 4, days: 7 },
      ],
    });
  });

  it("refuses days out of range and repeated rows", () => {
    expect(windowsOut([{ store: "events", source_id: null, days: "0" }])).toEqual({
      problem: "Row 1: the days are a whole number from 1 to 36,500.",
    });
    expect(windowsOut([{ store: "events", source_id: null, days: "2.5" }])).toHaveProperty("problem");
    expect(
      windowsOut([
        { store: "rejections", source_id: null, days: "3" },
        { store: "rejections", source_id: null, days: "4" },
      ]),
    ).toEqual({ problem: "Row 2 repeats a store and source already above: keep one." });
  });
});

describe("why the inbox lists a field", () => {
  it("names what its values looked like, or its name", () => {
    expect(whyPersonal([])).toBe("Its name looks personal");
    expect(whyPersonal(["email"])).toBe("Values look like: email address");
    expect(whyPersonal(["phone", "ip"])).toBe("Values look like: phone number, ip address");
  });
});
