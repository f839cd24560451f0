import { describe, expect, it } from "vitest";
import {
  addNode,
  connect,
  type Document,
  edgeEnds,
  forwardTargets,
  newNodeId,
  portsOf,
  problemPlace,
  problemsOf,
  reaches,
  removeNode,
  sameDocument,
  toFlowEdges,
  toFlowNodes,
} from "./graph";

const TITLES = {
  delay: { title: "Delay", family: "wait" },
  send: { title: "Send to a destination", family: "action" },
  exit: { title: "Exit", family: "flow" },
};

function empty(): Document {
  return { version: 1, trigger: { type: "manual" }, start: "start", nodes: {} };
}

describe("ports", () => {
  it("follow the config like nodes.py", () => {
    expect(portsOf("wait_event", { events: [{ port: "bought" }], timeout: {} })).toEqual(["bought", "timeout"]);
    expect(portsOf("split", { branches: [{ port: "vip" }, { port: "new" }] })).toEqual(["vip", "new", "else"]);
    expect(portsOf("random_split", { cohorts: [{ port: "a" }, { port: "b" }] })).toEqual(["a", "b"]);
    expect(portsOf("send", {}, "action")).toEqual(["out", "error"]);
    expect(portsOf("delay", {}, "wait")).toEqual(["out"]);
    expect(portsOf("goto", { node: "x" })).toEqual([]);
    expect(portsOf("exit")).toEqual([]);
  });
});

describe("editing the document", () => {
  it("adds nodes with short unique ids, the first one the start", () => {
    const [one, first] = addNode(empty(), "delay", { x: 1, y: 2 });
    const [two, second] = addNode(one, "delay", { x: 3, y: 4 });
    expect([first, second]).toEqual(["delay_1", "delay_2"]);
    expect(two.start).toBe("delay_1");
    expect(two.nodes.delay_2).toEqual({ type: "delay", config: { duration: { days: 1 } }, next: {}, position: { x: 3, y: 4 } });
    expect(newNodeId(two, "delay")).toBe("delay_3");
  });

  it("connects and disconnects a port, and removes a node with the edges into it", () => {
    let document = addNode(addNode(empty(), "delay", { x: 0, y: 0 })[0], "exit", { x: 0, y: 100 })[0];
    document = connect(document, "delay_1", "out", "exit_1");
    expect(document.nodes.delay_1?.next).toEqual({ out: "exit_1" });
    expect(connect(document, "delay_1", "out", null).nodes.delay_1?.next).toEqual({});
    const removed = removeNode(document, "exit_1");
    expect(Object.keys(removed.nodes)).toEqual(["delay_1"]);
    expect(removed.nodes.delay_1?.next).toEqual({});
  });
});

describe("document to canvas", () => {
  const document: Document = {
    version: 1,
    trigger: { type: "event", event: "Signed Up" },
    start: "mail",
    nodes: {
      mail: { type: "send", config: {}, next: { out: "done", error: "gone" }, label: "Welcome mail", position: { x: 5, y: 6 } },
      done: { type: "exit" },
    },
  };

  it("draws each node with its ports, problems and the start", () => {
    const problems = [
      { path: "nodes.mail.config.event", message: "Field required" },
      { path: "nodes.mailbox", message: "not this one" },
    ];
    const nodes = toFlowNodes(document, { titles: TITLES, problems, readOnly: false, selected: "done" });
    expect(nodes.map((n) => [n.id, n.data.label, n.data.ports, n.data.start, n.selected])).toEqual([
      ["mail", "Welcome mail", ["out", "error"], true, false],
      ["done", "done", [], false, true],
    ]);
    expect(nodes[0]?.position).toEqual({ x: 5, y: 6 });
    expect(nodes[0]?.data.problems).toEqual(["Field required"]);
    expect(problemsOf(problems, "mail")).toHaveLength(1);
  });

  it("draws one edge per port that leads to a node, and reads the edge back", () => {
    const edges = toFlowEdges(document);
    expect(edges.map((e) => [e.source, e.sourceHandle, e.target])).toEqual([["mail", "out", "done"]]);
    expect(edgeEnds(edges[0]!.id)).toEqual(["mail", "out"]);
  });
});

describe("where a go-to may jump", () => {
  // start → pick; pick.a → hop (a go-to); pick.b → mail → done; side is connected to nothing
  const document: Document = {
    version: 1,
    trigger: { type: "manual" },
    start: "start",
    nodes: {
      start: { type: "delay", next: { out: "pick" } },
      pick: { type: "random_split", next: { a: "hop", b: "mail" } },
      hop: { type: "goto", config: { node: "mail" } },
      mail: { type: "send", next: { out: "done" } },
      done: { type: "exit" },
      side: { type: "exit" },
    },
  };

  it("offers only the nodes from which no way leads back to it", () => {
    expect(forwardTargets(document, "hop")).toEqual(["mail", "done", "side"]);
    // a go-to reached from mail may not jump to mail or anything before it
    const late = { ...document, nodes: { ...document.nodes, mail: { type: "send", next: { out: "hop" } } } };
    expect(forwardTargets(late, "hop")).toEqual(["done", "side"]);
  });

  it("follows a go-to's jump as a way through the journey", () => {
    expect(reaches(document, "start", "done")).toBe(true);
    expect(reaches(document, "hop", "mail")).toBe(true);
    expect(reaches(document, "mail", "start")).toBe(false);
  });

  it("draws the jump as an edge the canvas does not edit", () => {
    const jump = toFlowEdges(document).find((e) => e.source === "hop");
    expect(jump).toMatchObject({ sourceHandle: "jump", target: "mail", label: "goes to", deletable: false, selectable: false });
    const nowhere = { ...document, nodes: { ...document.nodes, hop: { type: "goto", config: { node: "gone" } } } };
    expect(toFlowEdges(nowhere).find((e) => e.source === "hop")).toBeUndefined();
  });
});

describe("unsaved changes", () => {
  it("are told apart from keys in another order", () => {
    const a: Document = { version: 1, trigger: { type: "event", event: "X" }, start: "s", nodes: {} };
    const b = { nodes: {}, start: "s", trigger: { event: "X", type: "event" }, version: 1 } as Document;
    expect(sameDocument(a, b)).toBe(true);
    expect(sameDocument(a, { ...b, start: "t" })).toBe(false);
  });
});

describe("a problem's place", () => {
  it("reads as words within its node", () => {
    expect(problemPlace("nodes.a.config.events.0.event_type", "a")).toBe("events 1 event type");
    expect(problemPlace("nodes.a.next", "a")).toBe("ports");
    expect(problemPlace("nodes.a", "a")).toBe("");
  });
});
