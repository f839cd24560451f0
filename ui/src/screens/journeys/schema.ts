// A node type's config JSON Schema (pydantic's) read as form fields. Journey configs nest
// objects, lists of objects (events, branches, cohorts, updates) and audience conditions, which
// the connectors' form (destinations/schema.ts) does not: hence this small reader of its own.

export type JsonSchema = {
  type?: string;
  title?: string;
  description?: string;
  enum?: string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  discriminator?: unknown;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  /** The field names a destination (its id), a list audience (its key) or a node of the
   * journey (its id): offer a choice. */
  "x-headwater-names"?: "destination" | "list_audience" | "node";
};

export type Kind = "object" | "list" | "enum" | "boolean" | "integer" | "number" | "string" | "scalar" | "condition" | "json";

export interface Field {
  name: string;
  label: string;
  kind: Kind;
  /** May be left out (not required, or null allowed). */
  optional: boolean;
  schema: JsonSchema;
}

const LABELS: Record<string, string> = { op: "Operation", url: "URL", event_type: "Event type", node: "Goes to" };

const SINGULAR: Record<string, string> = {
  Events: "Event",
  Branches: "Branch",
  Cohorts: "Cohort",
  Updates: "Update",
  Where: "Filter",
};

/** The label of one item of a list: "Branches" → "Branch". */
export function itemLabel(label: string): string {
  return SINGULAR[label] ?? `${label} item`;
}

/** `until_trait` → "Until trait". */
export function labelOf(name: string): string {
  const words = name.replace(/_/g, " ");
  return LABELS[name] ?? words.charAt(0).toUpperCase() + words.slice(1);
}

function deref(schema: JsonSchema, root: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.split("/").pop() ?? "";
  return root.$defs?.[name] ?? {};
}

function kindOf(schema: JsonSchema): Kind {
  if (schema.oneOf && schema.discriminator) return "condition";
  if (schema.enum) return "enum";
  if (schema.type === "object") return schema.properties ? "object" : "json";
  if (schema.type === "array") return schema.items?.$ref || schema.items?.properties ? "list" : "scalar";
  if (schema.type === "boolean" || schema.type === "integer" || schema.type === "number" || schema.type === "string") {
    return schema.type;
  }
  return "scalar";
}

/** The schema without `$ref` and `anyOf: [X, null]`, and whether null (leaving it out) is allowed. */
export function resolve(schema: JsonSchema, root: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  const found = deref(schema, root);
  const options = found.anyOf?.filter((option) => option.type !== "null");
  if (options && options.length === 1 && options[0]) {
    return { schema: { ...deref(options[0], root), description: found.description }, nullable: true };
  }
  if (options) return { schema: {}, nullable: options.length < (found.anyOf?.length ?? 0) };
  return { schema: found, nullable: false };
}

/** The fields of an object schema, in the schema's order. */
export function fieldsOf(schema: JsonSchema, root: JsonSchema): Field[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const { schema: resolved, nullable } = resolve(property, root);
    return { name, label: labelOf(name), kind: kindOf(resolved), optional: nullable || !required.has(name), schema: resolved };
  });
}

/** The item schema of a list field. */
export function itemsOf(field: Field, root: JsonSchema): JsonSchema {
  return deref(field.schema.items ?? {}, root);
}

/** What a person typed in a free value field: true/false, a number, JSON for lists, or text. */
export function readScalar(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  if (trimmed === "true" || trimmed === "false") return trimmed === "true";
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (trimmed.startsWith("[")) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

export function showScalar(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The object with `name` set, or left out when `value` is undefined. */
export function withValue(values: Record<string, unknown>, name: string, value: unknown): Record<string, unknown> {
  const next = { ...values };
  if (value === undefined) delete next[name];
  else next[name] = value;
  return next;
}

/** A docstring as a sentence for people: pydantic's ``code`` marks dropped. */
export function plainDescription(text: string | undefined): string | undefined {
  return text?.replace(/``/g, "").replace(/\s+/g, " ").trim();
}
