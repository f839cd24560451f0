// The rule form's model (pure): the configuration's types as the OpenAPI document declares
// them, where a value comes from (a field, a template, fixed text or JSON, an expression), a
// condition's value as typed text, and the server's problems placed next to their field.
import type { components } from "../../api/schema";
import type { FieldError } from "../../api/errors";

export type HookConfigIn = NonNullable<components["schemas"]["HookPut"]["config"]>;
export type RulesConfig = Omit<HookConfigIn, "auth">;
export type Rule = NonNullable<HookConfigIn["rules"]>[number];
export type ValueSource = NonNullable<Rule["set"]>[string];
export type ValueSpec = Exclude<ValueSource, string>;
type SchemaCondition = NonNullable<Rule["when"]>;
/** A rule's condition; the generated schema types its nested conditions loosely. */
export type Condition = Omit<SchemaCondition, "all" | "any" | "not"> & {
  all?: Condition[] | null;
  any?: Condition[] | null;
  not?: Condition | null;
};
export type MessageType = Rule["type"];
export type Reply = NonNullable<RulesConfig["reply"]>;
export type Method = NonNullable<Reply["methods"]>[number];
export type Operator = NonNullable<SchemaCondition["op"]>;
export type Kind = "path" | "template" | "const" | "json" | "expr";

export const MESSAGE_TYPES: { value: MessageType; label: string }[] = [
  { value: "track", label: "Track (an event happened)" },
  { value: "identify", label: "Identify (who someone is)" },
  { value: "group", label: "Group (a company or account)" },
  { value: "page", label: "Page (a page was viewed)" },
  { value: "screen", label: "Screen (an app screen was viewed)" },
  { value: "alias", label: "Alias (two ids are one person)" },
];

/** The operators that have no opposite of their own: "does not contain" is ``{not: …}``
 *  ("is not greater than" holds for a missing field too: it is not "is less than"). */
const NEGATABLE = ["in", "starts_with", "contains", "gt", "lt"] as const;

/** The operators whose negation is another operator, for every value and a missing field. */
const OPPOSITE: Partial<Record<Operator, Operator>> = { eq: "ne", ne: "eq", exists: "missing", missing: "exists" };
type Negatable = (typeof NEGATABLE)[number];

/** A comparison's test as the form offers it: an operator, or the negation of one. */
export type Test = Operator | `not_${Negatable}`;

export const TESTS: { value: Test; label: string }[] = [
  { value: "eq", label: "is" },
  { value: "ne", label: "is not" },
  { value: "in", label: "is one of (comma-separated)" },
  { value: "not_in", label: "is none of (comma-separated)" },
  { value: "exists", label: "is present" },
  { value: "missing", label: "is missing" },
  { value: "starts_with", label: "starts with" },
  { value: "not_starts_with", label: "does not start with" },
  { value: "contains", label: "contains" },
  { value: "not_contains", label: "does not contain" },
  { value: "gt", label: "is greater than" },
  { value: "not_gt", label: "is not greater than" },
  { value: "lt", label: "is less than" },
  { value: "not_lt", label: "is not less than" },
];

export const KINDS: { value: Kind; label: string; placeholder: string }[] = [
  { value: "path", label: "a field of the request", placeholder: "body.data.id" },
  { value: "template", label: "text with fields", placeholder: "order:{body.id}" },
  { value: "const", label: "fixed text", placeholder: "Order Completed" },
  { value: "json", label: "a fixed number or list", placeholder: '["vip", "eu"]' },
  { value: "expr", label: "an expression", placeholder: "lower(body.email)" },
];

/** The message field a rule's name goes in: ``event`` for track, ``name`` for page and screen. */
export function nameKey(type: MessageType): "event" | "name" | null {
  if (type === "track") return "event";
  if (type === "page" || type === "screen") return "name";
  return null;
}

/** Fields shown on every rule of the type, even when empty. */
export function standardKeys(type: MessageType): string[] {
  if (type === "group") return ["userId", "anonymousId", "groupId"];
  if (type === "alias") return ["userId", "previousId"];
  return ["userId", "anonymousId"];
}

export function kindOf(value: ValueSource): Kind {
  if (typeof value === "string") return "path";
  if (value.template != null) return "template";
  if (value.expr != null) return "expr";
  if ("const" in value) return typeof value.const === "string" ? "const" : "json";
  return "path";
}

export function textOf(value: ValueSource): string {
  if (typeof value === "string") return value;
  const kind = kindOf(value);
  if (kind === "const") return value.const as string;
  if (kind === "json") return JSON.stringify(value.const);
  return (kind === "template" ? value.template : kind === "expr" ? value.expr : value.path) ?? "";
}

/** The value for ``kind`` and ``text``, keeping ``previous``'s default; undefined when blank,
 *  null when a fixed JSON value's text is not JSON (yet). Fixed text is always text. */
export function sourceOf(kind: Kind, text: string, previous?: ValueSource): ValueSource | undefined | null {
  if (text === "") return undefined;
  const kept = typeof previous === "object" && previous.default !== undefined ? { default: previous.default } : {};
  if (kind === "path") return "default" in kept ? { path: text, ...kept } : text;
  if (kind === "const") return { const: text, ...kept };
  if (kind === "json") {
    const parsed = jsonOf(text);
    return parsed === undefined ? null : { const: parsed, ...kept };
  }
  return { [kind]: text, ...kept };
}

/** Whether ``text`` is the JSON of ``value`` (the same value, however it is spaced). */
export function isJsonOf(text: string, value: unknown): boolean {
  const parsed = jsonOf(text);
  return parsed !== undefined && JSON.stringify(parsed) === JSON.stringify(value);
}

/** Whether a value of ``kind`` can be missing, so that a default means something: a field of
 *  the request or an expression (text with fields is never missing, fixed text never). */
export function canMiss(kind: Kind): boolean {
  return kind === "path" || kind === "expr";
}

/** The value's default as the form shows it ("" when it has none). */
export function defaultText(value: ValueSource | undefined): string {
  if (typeof value !== "object" || value.default === undefined || value.default === null) return "";
  return typeof value.default === "string" ? value.default : JSON.stringify(value.default);
}

/** ``value`` with ``text`` as its default (typed like the default it had); without one when
 *  ``text`` is blank (a field of the request then written as its bare path again). */
export function withDefault(value: ValueSource, text: string): ValueSource {
  const spec: ValueSpec = typeof value === "string" ? { path: value } : value;
  const { default: previous, ...rest } = spec;
  if (text !== "") return { ...rest, default: typedLike(previous, text) };
  const keys = Object.keys(rest);
  return keys.length === 1 && keys[0] === "path" && rest.path != null ? rest.path : rest;
}

/** ``text`` as the type ``previous`` had when it reads as one (a number stays a number, a
 *  list or an object stays one while the text is its JSON). */
export function typedLike(previous: unknown, text: string): unknown {
  const trimmed = text.trim();
  if (typeof previous === "number" && trimmed !== "" && !Number.isNaN(Number(trimmed))) return Number(trimmed);
  if (typeof previous === "boolean" && (trimmed === "true" || trimmed === "false")) return trimmed === "true";
  if (typeof previous === "object" && previous !== null) {
    const parsed = jsonOf(trimmed);
    if (typeof parsed === "object" && parsed !== null && Array.isArray(parsed) === Array.isArray(previous)) return parsed;
  }
  return text;
}

function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A simple condition's value as it is shown in the form. */
export function conditionText(condition: Condition): string {
  const value = condition.value;
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) return value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ");
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The typed text as the condition's value for ``op``: a list for "is one of", a number for
 *  the comparisons when it is one, the previous value's type otherwise. */
export function conditionValue(op: Operator, text: string, previous: unknown): unknown {
  if (op === "exists" || op === "missing") return undefined;
  if (op === "in") {
    const items = Array.isArray(previous) ? previous : [];
    return text
      .split(",")
      .map((part) => part.trim())
      .filter((part) => part !== "")
      .map((part, i) => typedLike(items[i] ?? items[0], part));
  }
  if ((op === "gt" || op === "lt") && text.trim() !== "" && !Number.isNaN(Number(text))) return Number(text);
  return typedLike(previous, text);
}

/** Whether ``condition`` is one field compared with a value (not all/any/not). */
function isSimple(condition: Condition): boolean {
  return condition.all == null && condition.any == null && condition.not == null;
}

function isNegatable(op: Operator | null | undefined): op is Negatable {
  return (NEGATABLE as readonly (Operator | null | undefined)[]).includes(op);
}

/** Whether ``condition`` is what one row of the form edits: a field compared with a value, or
 *  the negation of such a comparison by an operator without an opposite of its own. (A
 *  condition has exactly one of path, all, any and not: the server holds it to that.) */
export function isComparison(condition: Condition): boolean {
  const inner = condition.not;
  return isSimple(condition) || (inner != null && isSimple(inner) && isNegatable(inner.op));
}

/** The parts of ``condition`` when it is all, any, none (``{not: {any: …}}``) or not all
 *  (``{not: {all: …}}``) of them. */
function groupParts(condition: Condition): Condition[] | null {
  return condition.all ?? condition.any ?? condition.not?.any ?? condition.not?.all ?? null;
}

/** ``condition`` as the form shows it, holding for the same requests: a negated comparison
 *  whose operator has an opposite is that opposite (``{not: {op: "eq"}}`` is "is not"), a
 *  double negation is what it negates, each part of a group likewise. */
export function simplified(condition: Condition): Condition {
  if (condition.all != null) return { ...condition, all: condition.all.map(simplified) };
  if (condition.any != null) return { ...condition, any: condition.any.map(simplified) };
  if (condition.not == null) return condition;
  const inner = simplified(condition.not);
  if (inner.not != null) return inner.not;
  const opposite = isSimple(inner) ? OPPOSITE[inner.op ?? "eq"] : undefined;
  if (opposite === undefined) return { not: inner };
  if (opposite === "exists" || opposite === "missing") return { path: inner.path, op: opposite };
  return { ...inner, op: opposite };
}

/** Whether ``condition`` is a group the form edits: all, any, none or not all of parts that
 *  are each a comparison or such a group. */
function isGroup(condition: Condition): boolean {
  const parts = groupParts(condition);
  return parts != null && parts.every((part) => isComparison(part) || isGroup(part));
}

/** The test a comparison applies, as the form names it. */
export function testOf(comparison: Condition): Test {
  const inner = comparison.not;
  if (inner != null && isNegatable(inner.op)) return `not_${inner.op}`;
  return comparison.op ?? "eq";
}

/** The field and value of a comparison (inside its negation, if it has one). */
export function comparedOf(comparison: Condition): Condition {
  return comparison.not ?? comparison;
}

/** The comparison of ``path`` by ``test`` with the typed ``text`` (``previous`` the value it
 *  had: its type is kept where the text reads as one). */
export function comparison(path: string, test: Test, text: string, previous: unknown): Condition {
  const negated = test.startsWith("not_");
  const op = (negated ? test.slice(4) : test) as Operator;
  const value = conditionValue(op, text, previous);
  const compared: Condition = value === undefined ? { path, op } : { path, op, value };
  return negated ? { not: compared } : compared;
}

/** How the form shows a rule's condition: none (every request), one comparison, all, any,
 *  none or not all of several parts (comparisons, or groups of them in turn); "other" for a
 *  negation the form shows only once :func:`simplified` (of a comparison by an operator that
 *  has an opposite, a double one). */
export type Joining = "always" | "one" | "all" | "any" | "none" | "notall" | "other";

export const JOININGS: { value: Exclude<Joining, "other">; label: string }[] = [
  { value: "always", label: "every request" },
  { value: "one", label: "requests where a field…" },
  { value: "all", label: "requests where all of these hold" },
  { value: "any", label: "requests where any of these holds" },
  { value: "none", label: "requests where none of these holds" },
  { value: "notall", label: "requests where not all of these hold" },
];

export function joiningOf(condition: Condition | null | undefined): Joining {
  if (condition == null) return "always";
  if (isComparison(condition)) return "one";
  if (!isGroup(condition)) return "other";
  if (condition.all != null) return "all";
  if (condition.any != null) return "any";
  return condition.not?.any != null ? "none" : "notall";
}

/** The parts ``condition`` is made of, as the form lists them. */
export function partsOf(condition: Condition | null | undefined): Condition[] {
  if (condition == null) return [];
  if (isComparison(condition)) return [condition];
  return groupParts(condition) ?? [];
}

export function blankCondition(): Condition {
  return { path: "body.type", op: "eq", value: "" };
}

/** ``parts`` joined as ``joining`` says: one keeps the first comparison, all, any and none
 *  keep every part (at least one: a new blank comparison when there is none). */
export function joined(joining: Exclude<Joining, "other">, parts: Condition[]): Condition | null {
  if (joining === "always") return null;
  const kept = parts.length > 0 ? parts : [blankCondition()];
  if (joining === "one") return kept.find(isComparison) ?? blankCondition();
  if (joining === "none") return { not: { any: kept } };
  if (joining === "notall") return { not: { all: kept } };
  return joining === "all" ? { all: kept } : { any: kept };
}

/** ``set`` with ``key`` given ``value`` (removed when undefined), in the same order. */
export function withField(set: Rule["set"], key: string, value: ValueSource | undefined): NonNullable<Rule["set"]> {
  const out: NonNullable<Rule["set"]> = {};
  let placed = false;
  for (const [k, v] of Object.entries(set ?? {})) {
    if (k === key) {
      placed = true;
      if (value !== undefined) out[k] = value;
    } else out[k] = v;
  }
  if (!placed && value !== undefined) out[key] = value;
  return out;
}

/** ``set`` with the field ``from`` renamed ``to``, in place. */
export function renamed(set: Rule["set"], from: string, to: string): NonNullable<Rule["set"]> {
  const out: NonNullable<Rule["set"]> = {};
  for (const [k, v] of Object.entries(set ?? {})) out[k === from ? to : k] = v;
  return out;
}

/** A verification reply to start from: echo the query's ``challenge`` when it is there (how
 *  most senders that verify a URL ask). */
export function blankReply(): Reply {
  return { when: { path: "query.challenge", op: "exists" }, echo: "query.challenge" };
}

/** ``reply``'s methods with ``method`` on or off, in the order GET, POST (at least one: the
 *  last one cannot be turned off). */
export function withMethod(reply: Reply, method: Method, on: boolean): Reply {
  const current = reply.methods ?? ["GET", "POST"];
  const next = (["GET", "POST"] as const).filter((m) => (m === method ? on : current.includes(m)));
  return next.length === 0 ? reply : { ...reply, methods: next };
}

export function blankRule(): Rule {
  return { type: "track", set: {}, message_id: "hash" };
}

/** Pydantic's wording made plainer for people. */
export function plainMessage(message: string): string {
  const text = message.replace(/^Value error, /, "");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Each problem placed at the longest of ``places`` its field starts with (``rules.0.set.event``
 *  for ``rules.0.set.event.ValueSpec``); the problems no place takes are under "". */
export function placed(problems: FieldError[], places: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const problem of problems) {
    const at = places
      .filter((place) => problem.field === place || problem.field.startsWith(`${place}.`))
      .sort((a, b) => b.length - a.length)[0];
    const key = at ?? "";
    out.set(key, [...(out.get(key) ?? []), plainMessage(problem.message)]);
  }
  return out;
}

/** The places of ``config``'s form fields that problems can be shown at. */
export function placesOf(config: RulesConfig): string[] {
  const places = ["match", "transform", "reply", "reply.when", "reply.echo", "reply.json_key", "reply.status"];
  (config.rules ?? []).forEach((rule, i) => {
    const at = `rules.${i}`;
    places.push(at, `${at}.name`, `${at}.when`, `${at}.type`, `${at}.each`, `${at}.message_id`, `${at}.timestamp`);
    places.push(`${at}.timestamp.path`, `${at}.timestamp.format`, `${at}.set`);
    for (const key of Object.keys(rule.set ?? {})) places.push(`${at}.set.${key}`);
  });
  return places;
}
