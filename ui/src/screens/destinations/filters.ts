// The common filters in plain words, and the API's filter list they stand for (see
// docs/destinations.md: sample, drop, only, drop_properties, allow_properties). A list the plain
// form cannot say exactly (any other condition, a filter twice) is edited as JSON instead.

export type Filter = Record<string, unknown>;

export const EVENT_TYPES = ["track", "identify", "page", "screen", "group", "alias"] as const;

export interface Plain {
  /** The message types sent; all six: every type. */
  types: string[];
  /** Track events sent, by name; empty: every one. Other types are not affected. */
  only: string[];
  /** Track events never sent, by name. */
  never: string[];
  /** Fields removed before sending (dotted paths such as properties.email). */
  removed: string[];
  /** Percent of events kept (chosen by messageId); null: all. */
  percent: number | null;
}

export const EVERYTHING: Plain = { types: [...EVENT_TYPES], only: [], never: [], removed: [], percent: null };

const isIn = (field: string, names: string[]) => ({ field, op: "in", value: names });

/** The filter list a plain form stands for, in the order the API applies them. */
export function toFilters(plain: Plain): Filter[] {
  const filters: Filter[] = [];
  if (EVENT_TYPES.some((type) => !plain.types.includes(type))) {
    filters.push({ type: "only", when: isIn("type", plain.types) });
  }
  if (plain.only.length) {
    const other = { field: "type", op: "ne", value: "track" };
    filters.push({ type: "only", when: { any: [other, isIn("event", plain.only)] } });
  }
  if (plain.never.length) filters.push({ type: "drop", when: isIn("event", plain.never) });
  if (plain.percent !== null) filters.push({ type: "sample", percent: plain.percent });
  if (plain.removed.length) filters.push({ type: "drop_properties", paths: plain.removed });
  return filters;
}

function keys(value: unknown, expected: string[]): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const found = Object.keys(value).sort();
  return found.length === expected.length && [...expected].sort().every((key, i) => key === found[i]);
}

function strings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/** The names of ``{field, op: "in", value: [names]}``, or null for any other condition. */
function namesIn(condition: unknown, field: string): string[] | null {
  if (!keys(condition, ["field", "op", "value"])) return null;
  return condition.field === field && condition.op === "in" && strings(condition.value) ? condition.value : null;
}

function onlyTrackNamed(condition: unknown): string[] | null {
  if (!keys(condition, ["any"]) || !Array.isArray(condition.any) || condition.any.length !== 2) return null;
  const [other, named] = condition.any as unknown[];
  const isOther = keys(other, ["field", "op", "value"]) && other.field === "type" && other.op === "ne" && other.value === "track";
  return isOther ? namesIn(named, "event") : null;
}

type Reader = (filter: Record<string, unknown>, plain: Plain) => boolean;

// Each reader takes a filter it can say into the plain form. One said twice is caught by the
// comparison in toPlain: the plain form keeps only the last.
const READERS: Reader[] = [
  (filter, plain) => {
    const types = filter.type === "only" ? namesIn(filter.when, "type") : null;
    if (types) plain.types = types;
    return types !== null;
  },
  (filter, plain) => {
    const names = filter.type === "only" ? onlyTrackNamed(filter.when) : null;
    if (names) plain.only = names;
    return names !== null;
  },
  (filter, plain) => {
    const names = filter.type === "drop" ? namesIn(filter.when, "event") : null;
    if (names) plain.never = names;
    return names !== null;
  },
  (filter, plain) => {
    const sample = filter.type === "sample" && typeof filter.percent === "number";
    if (sample) plain.percent = filter.percent as number;
    return sample;
  },
  (filter, plain) => {
    const paths = filter.type === "drop_properties" && strings(filter.paths) ? filter.paths : null;
    if (paths) plain.removed = paths;
    return paths !== null;
  },
];

/** The plain form of a filter list, or null when it holds more than the plain form says. */
export function toPlain(filters: unknown[]): Plain | null {
  const plain: Plain = { ...EVERYTHING };
  for (const filter of filters) {
    if (typeof filter !== "object" || filter === null) return null;
    const entry = filter as Record<string, unknown>;
    if (!READERS.some((read) => read(entry, plain))) return null;
  }
  // Only a list the plain form writes back exactly: another order (the API applies filters in
  // order), a filter twice, or an empty list of names may mean something else.
  return JSON.stringify(toFilters(plain)) === JSON.stringify(filters.map(canonical)) ? plain : null;
}

/** A filter with its keys in the order ``toFilters`` writes them, for comparing. */
function canonical(filter: unknown): unknown {
  return JSON.parse(JSON.stringify(filter, (_, value: unknown) => ordered(value)));
}

function ordered(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const order = ["type", "when", "percent", "paths", "any", "field", "op", "value"];
  const entries = Object.entries(value).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
  return Object.fromEntries(entries);
}
