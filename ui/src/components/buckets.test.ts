import { describe, expect, it } from "vitest";
import { perBucket, STEP, total } from "./buckets";
import { counted } from "./words";

const HOUR = 3600;

describe("perBucket", () => {
  it("sums rows of one bucket and fills every bucket of the range with zeros", () => {
    const now = Math.floor(Date.now() / 1000 / HOUR) * HOUR;
    const since = new Date((now - 3 * HOUR) * 1000).toISOString();
    const rows = [
      { at: new Date((now - 2 * HOUR) * 1000).toISOString(), n: 2 },
      { at: new Date((now - 2 * HOUR + 59) * 1000).toISOString(), n: 3 },
      { at: new Date(now * 1000).toISOString(), n: 1 },
    ];
    const series = perBucket(rows, (r) => r.at, { n: (r) => r.n }, since);
    expect(series.times).toEqual([now - 3 * HOUR, now - 2 * HOUR, now - HOUR, now]);
    expect(series.values.n).toEqual([0, 5, 0, 1]);
    expect(total(series.values.n)).toBe(6);
  });

  it("cuts rows to the step given", () => {
    const now = Math.floor(Date.now() / 1000 / STEP.minute) * STEP.minute;
    const since = new Date((now - STEP.minute) * 1000).toISOString();
    const rows = [{ at: new Date((now - 30) * 1000).toISOString() }, { at: new Date(now * 1000).toISOString() }];
    const series = perBucket(rows, (r) => r.at, { n: () => 1 }, since, STEP.minute);
    expect(series.times).toEqual([now - STEP.minute, now]);
    expect(series.values.n).toEqual([1, 1]);
  });

  it("gives no bucket when nothing happened", () => {
    expect(perBucket([], () => "", { n: () => 1 }, new Date().toISOString())).toEqual({ times: [], values: {} });
  });
});

describe("counted", () => {
  it("says one thing in the singular and others in the plural", () => {
    expect(counted(1, "event")).toBe("1 event");
    expect(counted(2, "event")).toBe("2 events");
    expect(counted(0, "person", "people")).toBe("0 people");
  });
});
