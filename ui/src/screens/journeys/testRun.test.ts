import { describe, expect, it } from "vitest";
import type { Document } from "./graph";
import { readObject, since, starterEvent, trailOf } from "./testRun";

const DOCUMENT: Document = {
  version: 1,
  trigger: { type: "event", event: "Signed Up" },
  start: "wait",
  nodes: {
    wait: { type: "delay", config: {}, next: { out: "send" } },
    send: { type: "send", config: {}, next: { out: "done" } },
    done: { type: "exit" },
  },
};

describe("test run", () => {
  it("marks the nodes passed and the edges of the ports taken", () => {
    const trail = trailOf(
      [
        { node: "wait", port: "out" },
        { node: "send", port: "error" },
      ],
      DOCUMENT,
    );
    expect([...trail.nodes]).toEqual(["wait", "send"]);
    expect([...trail.edges]).toEqual(["wait:out"]);
  });

  it("suggests a message of the trigger's event", () => {
    expect(starterEvent(DOCUMENT)).toEqual({ type: "track", userId: "user-1", event: "Signed Up", properties: {} });
    expect(starterEvent({ ...DOCUMENT, trigger: { type: "event", event_type: "page", event: "Pricing" } })).toEqual({
      type: "page",
      userId: "user-1",
      name: "Pricing",
      properties: {},
    });
    expect(starterEvent({ ...DOCUMENT, trigger: { type: "manual" } })).toBeNull();
  });

  it("says times since the entry", () => {
    expect(since(0)).toBe("at entry");
    expect(since(300)).toBe("+5 min");
    expect(since(93_600 + 59)).toBe("+1 d 2 h");
  });

  it("reads JSON objects and says what is wrong otherwise", () => {
    expect(readObject('{"plan": "pro"}', "traits")).toEqual({ plan: "pro" });
    expect(() => readObject("{plan: pro}", "traits")).toThrow("Check the traits: it is not valid JSON");
    expect(() => readObject("[1]", "sample event")).toThrow("must be a JSON object");
  });
});
