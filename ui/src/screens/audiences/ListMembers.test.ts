import { describe, expect, it } from "vitest";
import { parseLines } from "./ListMembers";

describe("parseLines", () => {
  it("reads one identifier a line, or comma separated, without blanks", () => {
    expect(parseLines(" ada \n\nbo@example.com, cy\n  \n")).toEqual(["ada", "bo@example.com", "cy"]);
  });

  it("reads nothing from blank text", () => {
    expect(parseLines(" \n \n")).toEqual([]);
  });
});
