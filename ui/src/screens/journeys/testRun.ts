// The test run's pure parts: the sample event a trigger suggests, what a run visited on the
// canvas, times on the run's virtual clock, and JSON typed by a person read back.
import type { Document } from "./graph";
import { edgeId } from "./graph";

/** What a run went through: node ids, and edge ids (`node:port`) of the ports taken. */
export interface Trail {
  nodes: Set<string>;
  edges: Set<string>;
}

/** The nodes and edges of a run's steps (a port that leads nowhere has no edge). */
export function trailOf(steps: { node: string; port: string | null }[], document: Document): Trail {
  const nodes = new Set<string>();
  const edges = new Set<string>();
  for (const step of steps) {
    nodes.add(step.node);
    const next = document.nodes[step.node]?.next ?? {};
    if (step.port !== null && step.port in next) edges.add(edgeId(step.node, step.port));
  }
  return { nodes, edges };
}

/** A sample message for the journey's trigger, to edit before running (none without an event trigger). */
export function starterEvent(document: Document): Record<string, unknown> | null {
  const trigger = document.trigger;
  if (trigger.type !== "event") return null;
  const type = typeof trigger.event_type === "string" ? trigger.event_type : "track";
  const name = typeof trigger.event === "string" ? trigger.event : undefined;
  const message: Record<string, unknown> = { type, userId: "user-1" };
  if (type === "track") message.event = name ?? "";
  else if (name && (type === "page" || type === "screen")) message.name = name;
  if (type === "identify" || type === "group") message.traits = {};
  else message.properties = {};
  return message;
}

/** Seconds since the entry as a person reads it: "at entry", "+5 min", "+1 d 2 h". */
export function since(seconds: number): string {
  if (seconds <= 0) return "at entry";
  const parts: string[] = [];
  let left = seconds;
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3600],
    ["min", 60],
    ["s", 1],
  ] as const) {
    const count = Math.floor(left / size);
    left -= count * size;
    if (count) parts.push(`${count} ${unit}`);
  }
  return `+${parts.slice(0, 2).join(" ")}`;
}

/** `text` as a JSON object, or an error saying in plain words what is wrong with `what`. */
export function readObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`Check the ${what}: it is not valid JSON (look at its quotes, commas and braces).`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`Check the ${what}: it must be a JSON object, like {"plan": "pro"}.`);
  }
  return value as Record<string, unknown>;
}
