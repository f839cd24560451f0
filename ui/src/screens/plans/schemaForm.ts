// An event's JSON Schema as rows of a form, and back. Only what a form can say plainly is a field
// (name, type, required, description, enum, pattern); every other keyword of a property, and of
// the schema itself, is kept as it was, so a round trip through the form changes nothing else.
import type { components } from "../../api/schema";

export type PlanDocument = components["schemas"]["DocumentView"];
export type EventSpec = components["schemas"]["EventSpecView"];
type Json = Record<string, unknown>;

export const TYPES = ["string", "number", "integer", "boolean", "object", "array"] as const;
/** `any`: no `type` keyword; `kept`: a type the form cannot choose (several, or null), left as it was. */
export type Kind = (typeof TYPES)[number] | "any" | "kept";

export interface PropertyRow {
  name: string;
  kind: Kind;
  required: boolean;
  description: string;
  /** Allowed values, separated by commas. */
  values: string;
  pattern: string;
  /** Every other keyword of the property (and `type` when `kind` is "kept"). */
  rest: Json;
}

export interface SchemaForm {
  rows: PropertyRow[];
  /** The schema's own keywords but `properties` and `required`. */
  rest: Json;
  /** Required names the schema declares no property for (kept: they still must be present). */
  alsoRequired: string[];
}

/** True when the form can show the schema: an object schema whose properties are objects. */
export function formable(schema: Json): boolean {
  const properties = schema.properties;
  if (properties === undefined) return schema.type === undefined || schema.type === "object";
  return (
    isObject(properties) &&
    Object.values(properties).every(isObject) &&
    (schema.required === undefined || Array.isArray(schema.required))
  );
}

export function toForm(schema: Json): SchemaForm {
  const { properties, required, ...rest } = schema;
  const needed = new Set(Array.isArray(required) ? required.map(String) : []);
  const declared = isObject(properties) ? properties : {};
  const rows = Object.entries(declared).map(([name, property]) => toRow(name, property as Json, needed.has(name)));
  return { rows, rest, alsoRequired: [...needed].filter((name) => !(name in declared)) };
}

function toRow(name: string, property: Json, required: boolean): PropertyRow {
  const { type, description, enum: allowed, pattern, ...rest } = property;
  let kind: Kind = "any";
  if (typeof type === "string" && (TYPES as readonly string[]).includes(type)) kind = type as Kind;
  else if (type !== undefined) {
    kind = "kept";
    rest.type = type;
  }
  const simple = Array.isArray(allowed) && allowed.every((v) => typeof v === "string" || typeof v === "number");
  if (allowed !== undefined && !simple) rest.enum = allowed;
  if (pattern !== undefined && typeof pattern !== "string") rest.pattern = pattern;
  if (description !== undefined && typeof description !== "string") rest.description = description;
  return {
    name,
    kind,
    required,
    description: typeof description === "string" ? description : "",
    values: simple ? (allowed as (string | number)[]).join(", ") : "",
    pattern: typeof pattern === "string" ? pattern : "",
    rest,
  };
}

export function fromForm(form: SchemaForm): Json {
  const properties: Json = {};
  for (const row of form.rows) properties[row.name.trim()] = fromRow(row);
  const names = new Set(form.rows.map((row) => row.name.trim()));
  const required = [
    ...form.alsoRequired.filter((name) => !names.has(name)),
    ...form.rows.filter((row) => row.required).map((row) => row.name.trim()),
  ];
  const schema: Json = { ...form.rest, type: form.rest.type ?? "object", properties };
  if (required.length > 0) schema.required = required;
  return schema;
}

function fromRow(row: PropertyRow): Json {
  const { type: kept, ...rest } = row.rest;
  const property: Json = {};
  if (row.kind === "kept") property.type = kept;
  else if (row.kind !== "any") property.type = row.kind;
  if (row.description.trim()) property.description = row.description.trim();
  const values = splitValues(row.values, row.kind);
  if (values.length > 0) property.enum = values;
  if (row.pattern) property.pattern = row.pattern;
  return { ...property, ...rest };
}

/** "EUR, USD" → ["EUR", "USD"]; numbers where the type is numeric (or any) and the text is one. */
export function splitValues(text: string, kind: Kind): (string | number)[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => (kind !== "string" && part !== "" && Number.isFinite(Number(part)) ? Number(part) : part));
}

/** What is wrong with the rows, in plain words (empty when nothing is). */
export function problems(rows: PropertyRow[]): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  rows.forEach((row, index) => {
    const name = row.name.trim();
    if (!name) found.push(`Property ${index + 1} has no name.`);
    else if (seen.has(name)) found.push(`Two properties are named “${name}”: rename one.`);
    seen.add(name);
    if (row.pattern) {
      try {
        new RegExp(row.pattern);
      } catch {
        found.push(`The pattern of “${name || index + 1}” is not a regular expression.`);
      }
    }
    if ((row.kind === "number" || row.kind === "integer") && row.values) {
      const bad = splitValues(row.values, row.kind).filter((v) => typeof v !== "number");
      if (bad.length > 0) found.push(`“${name}” is a ${row.kind}, so its allowed values must be numbers.`);
    }
  });
  return found;
}

/** Parse the advanced editor's text: the schema, or what is wrong with it in plain words. */
export function parseSchema(text: string): { schema: Json } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const where = error instanceof SyntaxError ? ` (${error.message})` : "";
    return { problem: `This is not valid JSON${where}. Check for a missing comma, quote or brace.` };
  }
  if (!isObject(value)) return { problem: "The schema must be a JSON object, written between { and }." };
  if (value.type !== undefined && value.type !== "object") {
    return { problem: "An event's properties are an object: its schema's type must be \"object\" (or left out)." };
  }
  if (value.properties !== undefined && !isObject(value.properties)) {
    return { problem: "“properties” must be an object naming each property." };
  }
  if (value.required !== undefined && !(Array.isArray(value.required) && value.required.every((r) => typeof r === "string"))) {
    return { problem: "“required” must be a list of property names." };
  }
  return { schema: value };
}

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function emptyRow(): PropertyRow {
  return { name: "", kind: "string", required: false, description: "", values: "", pattern: "", rest: {} };
}

/** The type of a row in words ("number or string" for a kept list of types). */
export function typeLabel(row: PropertyRow): string {
  if (row.kind === "any") return "any";
  if (row.kind !== "kept") return row.kind;
  const type = row.rest.type;
  return Array.isArray(type) ? type.join(" or ") : String(type);
}
