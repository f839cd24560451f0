import { describe, expect, it } from "vitest";
import { pastedIds, readProperties, reasonWords, START_LIMIT, startBlocked, startedWords, startList } from "./starting";

describe("the profiles to start", () => {
  it("reads pasted ids one a line or separated, each once", () => {
    expect(pastedIds(" prf_a\nprf_b, prf_c;prf_a \n\n")).toEqual(["prf_a", "prf_b", "prf_c"]);
    expect(pastedIds("   ")).toEqual([]);
  });

  it("puts the chosen first, then the pasted, without repeats", () => {
    expect(startList(["prf_b", "prf_x"], "prf_a prf_b")).toEqual(["prf_b", "prf_x", "prf_a"]);
  });
});

describe("properties", () => {
  it("are a JSON object, or none", () => {
    expect(readProperties("")).toEqual({ value: {} });
    expect(readProperties('{"coupon": "SPRING", "off": 10}')).toEqual({ value: { coupon: "SPRING", off: 10 } });
    expect(readProperties('{"coupon": ')).toHaveProperty("wrong");
    expect(readProperties('["a"]')).toHaveProperty("wrong");
    expect(readProperties("null")).toHaveProperty("wrong");
  });
});

describe("starting", () => {
  it("waits for profiles, good properties and a list within the limit", () => {
    const fine = { value: {} };
    expect(startBlocked([], fine)).toBe("Choose or paste at least one profile.");
    expect(startBlocked(["prf_a"], { wrong: "no" })).toBe("Fix the properties first.");
    const many = Array.from({ length: START_LIMIT + 1 }, (_, i) => `prf_${i}`);
    expect(startBlocked(many, fine)).toContain("at most 1,000");
    expect(startBlocked(["prf_a"], fine)).toBeNull();
  });

  it("says the answer in words", () => {
    expect(startedWords({ entered: 2, skipped: [] })).toBe("2 people started.");
    const skipped = [{ profile_id: "prf_x", reason: "no such profile" }];
    expect(startedWords({ entered: 1, skipped })).toBe("1 person started; 1 was not.");
    expect(startedWords({ entered: 0, skipped: [...skipped, ...skipped] })).toBe("Nobody started; 2 were not.");
    expect(reasonWords("no such profile")).toContain("no profile has this id");
    expect(reasonWords("something new")).toBe("something new");
  });
});
