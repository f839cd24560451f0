// The audience condition language (docs/audiences.md, version 1) and its form in the builder.
// The builder (react-querybuilder) holds a tree of groups and rules: `and`/`or` conditions are
// groups, every other condition is a rule whose `field` names its type and whose `value` holds
// the condition's own fields verbatim, so that converting a definition to builder state and back
// gives the same JSON (conditions.test.ts checks every condition type).
import { generateID, type RuleGroupType, type RuleType } from "react-querybuilder";

export type Scalar = string | number | boolean;
export type EventType = "track" | "page" | "screen" | "identify" | "group";
export type CountOperator = "equals" | "not_equals" | "less_than" | "greater_than" | "at_most" | "at_least";
export type Operator =
  | CountOperator
  | "equals_any"
  | "equals_none"
  | "contains"
  | "not_contains"
  | "starts_with"
  | "ends_with"
  | "exists"
  | "not_exists"
  | "before"
  | "after"
  | "within_last_days"
  | "within_next_days";

export interface Window {
  within_days?: number;
  between_days?: [number, number];
}
export interface PropertyFilter {
  property: string;
  operator: Operator;
  value?: Scalar | Scalar[];
}
export interface EventSpec {
  event?: string;
  event_type?: EventType;
  where?: PropertyFilter[];
}
export interface EventCondition extends EventSpec {
  type: "event";
  performed?: boolean;
  count?: { operator: CountOperator; value: number };
  window?: Window;
}
export interface FunnelCondition {
  type: "funnel";
  first: EventSpec;
  then: EventSpec;
  within_hours: number;
  followed?: boolean;
  window?: Window;
}
export interface TraitCondition {
  type: "trait";
  trait: string;
  operator: Operator;
  value?: Scalar | Scalar[];
}
export interface AudienceRef {
  type: "audience";
  audience: string;
  member?: boolean;
}
export interface ConsentCondition {
  type: "consent";
  category: string;
  granted?: boolean;
}
export interface UsersCondition {
  type: "users";
  match: "any" | "all";
  condition: Condition;
}
export interface Combination {
  type: "and" | "or";
  conditions: Condition[];
}
export type Condition =
  | EventCondition
  | FunnelCondition
  | TraitCondition
  | AudienceRef
  | ConsentCondition
  | UsersCondition
  | Combination;

export interface AudienceDefinition {
  version: 1;
  condition: Condition;
}

/** What an operator compares with: nothing, a list, a number, text, a date, a number of days. */
export type ValueClass = "none" | "list" | "number" | "text" | "date" | "days" | "one";

export const OPERATORS: { name: Operator; label: string; takes: ValueClass }[] = [
  { name: "equals", label: "is", takes: "one" },
  { name: "not_equals", label: "is not", takes: "one" },
  { name: "equals_any", label: "is one of", takes: "list" },
  { name: "equals_none", label: "is none of", takes: "list" },
  { name: "contains", label: "contains", takes: "text" },
  { name: "not_contains", label: "does not contain", takes: "text" },
  { name: "starts_with", label: "starts with", takes: "text" },
  { name: "ends_with", label: "ends with", takes: "text" },
  { name: "greater_than", label: "is more than", takes: "number" },
  { name: "at_least", label: "is at least", takes: "number" },
  { name: "less_than", label: "is less than", takes: "number" },
  { name: "at_most", label: "is at most", takes: "number" },
  { name: "exists", label: "is set", takes: "none" },
  { name: "not_exists", label: "is not set", takes: "none" },
  { name: "before", label: "is a date before", takes: "date" },
  { name: "after", label: "is a date after", takes: "date" },
  { name: "within_last_days", label: "is a date in the last … days", takes: "days" },
  { name: "within_next_days", label: "is a date in the next … days", takes: "days" },
];

export function takes(operator: Operator): ValueClass {
  return OPERATORS.find((o) => o.name === operator)?.takes ?? "one";
}

/** The condition types a rule can be; `users` only in account audiences. */
export type Kind = "event" | "funnel" | "trait" | "audience" | "consent" | "users";

export type EventValue = Omit<EventCondition, "type">;
export type FunnelValue = Omit<FunnelCondition, "type">;
export type TraitValue = { trait: string; value?: Scalar | Scalar[] };
export type AudienceValue = Omit<AudienceRef, "type">;
export type ConsentValue = Omit<ConsentCondition, "type">;
export type UsersValue = { match: "any" | "all"; query: Group };

/** Rules other than trait conditions have one operator, not shown: the value editor says it all. */
export const IS = "is";

export type Rule = RuleType<Kind, string>;
/** `bare`: the root holds one condition rather than an `and` of one (kept so nothing is added). */
export interface Group extends RuleGroupType<Rule, "and" | "or"> {
  bare?: boolean;
}

function rule(condition: Exclude<Condition, Combination>): Rule {
  const { type, ...fields } = condition;
  const id = generateID();
  switch (condition.type) {
    case "trait": {
      const { trait, operator, ...rest } = condition;
      return { id, field: "trait", operator, value: { trait, ...("value" in rest ? { value: rest.value } : {}) } };
    }
    case "users":
      return { id, field: "users", operator: IS, value: { match: condition.match, query: toQuery(condition.condition) } };
    default:
      return { id, field: type, operator: IS, value: fields };
  }
}

function isCombination(condition: Condition): condition is Combination {
  return condition.type === "and" || condition.type === "or";
}

function group(condition: Combination): Group {
  return {
    id: generateID(),
    combinator: condition.type,
    rules: condition.conditions.map((c) => (isCombination(c) ? group(c) : rule(c))),
  };
}

/** Builder state for a condition (the root of a definition, or of a `users` condition). */
export function toQuery(condition: Condition): Group {
  if (isCombination(condition)) return group(condition);
  return { id: generateID(), combinator: "and", bare: true, rules: [rule(condition)] };
}

function fromRule(r: Rule): Condition {
  switch (r.field) {
    case "trait": {
      const { trait, value } = r.value as TraitValue;
      const operator = r.operator as Operator;
      // a value left from the previous operator would make the definition invalid
      const keep = takes(operator) !== "none" && value !== undefined;
      return { type: "trait", trait, operator, ...(keep ? { value } : {}) };
    }
    case "users": {
      const { match, query } = r.value as UsersValue;
      return { type: "users", match, condition: fromQuery(query) };
    }
    default:
      return { type: r.field, ...r.value } as Condition;
  }
}

function isGroup(item: Group["rules"][number]): item is RuleGroupType<Rule, "and" | "or"> {
  return "rules" in item;
}

/** The condition a builder state stands for. */
export function fromQuery(query: Group): Condition {
  const [only] = query.rules;
  if (query.bare && query.rules.length === 1 && only && !isGroup(only)) return fromRule(only);
  return {
    type: query.combinator === "or" ? "or" : "and",
    conditions: query.rules.map((item) => (isGroup(item) ? fromQuery({ ...item, bare: false }) : fromRule(item))),
  };
}

/** A new rule's value, by its kind: what the value editor starts from. */
export function defaultValue(kind: Kind): Rule["value"] {
  switch (kind) {
    case "event":
      return { event: "" } satisfies EventValue;
    case "funnel":
      return { first: { event: "" }, then: { event: "" }, within_hours: 24 } satisfies FunnelValue;
    case "trait":
      return { trait: "", value: "" } satisfies TraitValue;
    case "audience":
      return { audience: "" } satisfies AudienceValue;
    case "consent":
      return { category: "" } satisfies ConsentValue;
    case "users":
      return { match: "any", query: emptyQuery() } satisfies UsersValue;
  }
}

/** Where a new audience starts: one "performed an event" condition to fill in. */
export function emptyQuery(): Group {
  return {
    id: generateID(),
    combinator: "and",
    bare: true,
    rules: [{ id: generateID(), field: "event", operator: IS, value: defaultValue("event") }],
  };
}

// Computed traits: a form over the definition's own fields (there is no tree to build).

export type TraitKind =
  | "counter"
  | "sum"
  | "average"
  | "min"
  | "max"
  | "most_frequent"
  | "first"
  | "last"
  | "unique_list"
  | "unique_count";

export interface TraitDefinition extends EventSpec {
  version: 1;
  kind: TraitKind;
  property?: string;
  window?: Window;
}

export type TraitForm = Omit<TraitDefinition, "version">;

export const TRAIT_KINDS: { name: TraitKind; label: string }[] = [
  { name: "counter", label: "Number of events" },
  { name: "sum", label: "Sum of a property" },
  { name: "average", label: "Average of a property" },
  { name: "min", label: "Smallest value of a property" },
  { name: "max", label: "Largest value of a property" },
  { name: "most_frequent", label: "Most frequent value of a property" },
  { name: "first", label: "First value of a property" },
  { name: "last", label: "Last value of a property" },
  { name: "unique_list", label: "Distinct values of a property" },
  { name: "unique_count", label: "Number of distinct values of a property" },
];

export function toTraitForm(definition: TraitDefinition): TraitForm {
  const { version: _version, ...form } = definition;
  return form;
}

export function fromTraitForm(form: TraitForm): TraitDefinition {
  const { property, ...rest } = form;
  // a counter counts events: a property left from another kind would be refused
  return { version: 1, ...rest, ...(form.kind !== "counter" && property !== undefined ? { property } : {}) };
}
