// A journey document (see src/headwater/journeys/graph.py) and the canvas's nodes and edges.
// Pure: the document is the one state the editor keeps; the canvas is drawn from it and each
// change on the canvas is written back into it here.
import type { Edge, Node } from "@xyflow/react";

export interface Position {
  x: number;
  y: number;
}

export interface JourneyNode {
  type: string;
  config?: Record<string, unknown>;
  next?: Record<string, string>;
  label?: string | null;
  position?: Position | null;
}

export interface Document {
  version: 1;
  trigger: Record<string, unknown> & { type: string };
  entry?: Record<string, unknown>;
  exits?: Record<string, unknown>[];
  goal?: Record<string, unknown> | null;
  start: string;
  nodes: Record<string, JourneyNode>;
  [more: string]: unknown;
}

export interface Problem {
  path: string;
  message: string;
}

/** What a node on the canvas shows. */
export interface NodeData extends Record<string, unknown> {
  title: string;
  label: string;
  ports: string[];
  start: boolean;
  problems: string[];
  readOnly: boolean;
  /** A go-to: its jump is drawn from a handle of its own. */
  jumps: boolean;
  /** What went through the node (a published journey): none on a draft never run. */
  counts: NodeCounts | null;
}

/** A node's figures, as the stats route gives them. */
export interface NodeCounts {
  entered: number;
  here: number;
  ports: Record<string, number>;
  errors: number;
  seconds_p50?: number | null;
  seconds_p95?: number | null;
}

export type FlowNode = Node<NodeData, "journey">;

type Config = Record<string, unknown>;

function listPorts(config: Config, list: string): string[] {
  const items = config[list];
  return Array.isArray(items) ? items.map((item) => String((item as Config).port ?? "")) : [];
}

/** A node's output ports for its config, as nodes.py gives them (action nodes: out and error). */
export function portsOf(type: string, config: Config = {}, family?: string): string[] {
  switch (type) {
    case "wait_event":
      return [...listPorts(config, "events"), "timeout"];
    case "wait_condition":
      return ["met", "timeout"];
    case "split":
      return [...listPorts(config, "branches"), "else"];
    case "random_split":
      return listPorts(config, "cohorts");
    case "goto":
    case "exit":
      return [];
    default:
      return family === "action" ? ["out", "error"] : ["out"];
  }
}

const TIMEOUT = { days: 1 };

/** Where a new node's config starts: the shape its form fills in (names are left to type). */
export function starterConfig(type: string): Config {
  switch (type) {
    case "delay":
      return { duration: { days: 1 } };
    case "wait_event":
      return { events: [{ port: "done" }], timeout: TIMEOUT };
    case "wait_condition":
      return { condition: { type: "trait", trait: "", operator: "exists" }, timeout: TIMEOUT };
    case "split":
      return { branches: [{ port: "matched", condition: { type: "trait", trait: "", operator: "exists" } }] };
    case "random_split":
      return { cohorts: [{ port: "a", weight: 50 }, { port: "b", weight: 50 }] };
    case "update_traits":
      return { updates: [{ op: "set", trait: "", value: "" }] };
    case "list_membership":
      return { action: "add", audience: "" };
    default:
      return {};
  }
}

/** A short id not yet used in the document, from the node's type: `delay_1`, `delay_2`… */
export function newNodeId(document: Document, type: string): string {
  const stem = type.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 50) || "node";
  let n = 1;
  while (`${stem}_${n}` in document.nodes) n += 1;
  return `${stem}_${n}`;
}

/** The document with a new node of `type` at `position`; the first node becomes the start. */
export function addNode(document: Document, type: string, position: Position): [Document, string] {
  const id = newNodeId(document, type);
  const node: JourneyNode = { type, config: starterConfig(type), next: {}, position };
  const start = document.start in document.nodes ? document.start : id;
  return [{ ...document, start, nodes: { ...document.nodes, [id]: node } }, id];
}

/** The document without the node, and without every edge that led to it. */
export function removeNode(document: Document, id: string): Document {
  const nodes: Record<string, JourneyNode> = {};
  for (const [key, node] of Object.entries(document.nodes)) {
    if (key === id) continue;
    const next = Object.fromEntries(Object.entries(node.next ?? {}).filter(([, target]) => target !== id));
    nodes[key] = { ...node, next };
  }
  return { ...document, nodes };
}

export function updateNode(document: Document, id: string, change: Partial<JourneyNode>): Document {
  const node = document.nodes[id];
  if (!node) return document;
  return { ...document, nodes: { ...document.nodes, [id]: { ...node, ...change } } };
}

/** Port `port` of `source` leads to `target` (none: the port is left unconnected). */
export function connect(document: Document, source: string, port: string, target: string | null): Document {
  const node = document.nodes[source];
  if (!node) return document;
  const next = { ...(node.next ?? {}) };
  if (target === null) delete next[port];
  else next[port] = target;
  return updateNode(document, source, { next });
}

/** Where a node leads directly: the nodes its ports connect to, and a `goto`'s jump. */
export function successors(node: JourneyNode): string[] {
  const out = Object.values(node.next ?? {});
  const jump = node.type === "goto" ? node.config?.node : undefined;
  return typeof jump === "string" ? [...out, jump] : out;
}

/** Whether some way through the document leads from `from` to `to`. */
export function reaches(document: Document, from: string, to: string): boolean {
  const seen = new Set<string>();
  const todo = [from];
  for (let id = todo.pop(); id !== undefined; id = todo.pop()) {
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    const node = document.nodes[id];
    if (node) todo.push(...successors(node));
  }
  return false;
}

/** The nodes `id` may go to without a loop (graph.py refuses loops): every node from which
 * no way leads back to `id`. */
export function forwardTargets(document: Document, id: string): string[] {
  return Object.keys(document.nodes).filter((target) => target !== id && !reaches(document, target, id));
}

/** Problems about one node: paths `nodes.<id>` and below. */
export function problemsOf(problems: Problem[], id: string): Problem[] {
  const path = `nodes.${id}`;
  return problems.filter((p) => p.path === path || p.path.startsWith(`${path}.`));
}

export function edgeId(source: string, port: string): string {
  return `${source}:${port}`;
}

interface FlowOptions {
  titles: Record<string, { title: string; family: string }>;
  problems: Problem[];
  readOnly: boolean;
  selected: string | null;
  sizes?: Record<string, { width: number; height: number }>;
  counts?: Record<string, NodeCounts>;
  /** Nodes a test run went through (drawn highlighted). */
  visited?: Set<string>;
}

/** The canvas's nodes: each with its ports, its problems and whether it is the start. */
export function toFlowNodes(document: Document, options: FlowOptions): FlowNode[] {
  return Object.entries(document.nodes).map(([id, node], index) => {
    const kind = options.titles[node.type];
    return {
      id,
      type: "journey",
      position: node.position ?? { x: 40 + (index % 4) * 240, y: 40 + Math.floor(index / 4) * 160 },
      selected: options.selected === id,
      ...(options.sizes?.[id] ? { measured: options.sizes[id] } : {}),
      ...(options.visited?.has(id) ? { className: "visited" } : {}),
      data: {
        title: kind?.title ?? node.type,
        label: node.label || id,
        ports: portsOf(node.type, node.config, kind?.family),
        start: document.start === id,
        problems: problemsOf(options.problems, id).map((p) => p.message),
        readOnly: options.readOnly,
        jumps: node.type === "goto",
        counts: options.counts?.[id] ?? null,
      },
    };
  });
}

/** The handle a go-to's jump is drawn from. */
export const JUMP = "jump";

/** The canvas's edges: one per connected port, from the port's handle to the node it leads to
 * (those of `visited`, a test run's way, highlighted), and each go-to's jump. */
export function toFlowEdges(document: Document, visited?: Set<string>): Edge[] {
  const edges: Edge[] = [];
  for (const [source, node] of Object.entries(document.nodes)) {
    for (const [port, target] of Object.entries(node.next ?? {})) {
      if (!(target in document.nodes)) continue;
      const id = edgeId(source, port);
      const shown = visited?.has(id) ? { className: "visited", animated: true } : {};
      edges.push({ id, source, sourceHandle: port, target, label: port, ...shown });
    }
    const jump = node.type === "goto" ? node.config?.node : undefined;
    if (typeof jump === "string" && jump in document.nodes) {
      // drawn, not edited on the canvas: the go-to's form chooses where it jumps
      edges.push({
        id: `jump:${source}`,
        source,
        sourceHandle: JUMP,
        target: jump,
        label: "goes to",
        className: "journey-jump",
        deletable: false,
        selectable: false,
      });
    }
  }
  return edges;
}

/** The edge's source node and port, from its id. */
export function edgeEnds(id: string): [string, string] {
  const at = id.lastIndexOf(":");
  return [id.slice(0, at), id.slice(at + 1)];
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, canonical(v)]));
  }
  return value;
}

/** Whether two documents say the same, whatever the order of their keys (the server's may differ). */
export function sameDocument(a: Document, b: Document): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Where in its node a problem is, for people: `nodes.a.config.events.0.event` → "events 1 event". */
export function problemPlace(path: string, id: string): string {
  const rest = path.slice(`nodes.${id}`.length).replace(/^\./, "").replace(/^config\.?/, "");
  if (rest === "next") return "ports";
  return rest
    .split(".")
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? String(Number(part) + 1) : part.replace(/_/g, " ")))
    .join(" ");
}
