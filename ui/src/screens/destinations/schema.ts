// A connector's config JSON Schema (pydantic's) read as form fields, and the form's values
// turned back into the config the API takes. Pure: no React, so the rules read at once.

export type JsonSchema = {
  type?: string;
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  format?: string;
  writeOnly?: boolean;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
};

export type Kind = "string" | "number" | "integer" | "boolean" | "enum" | "strings" | "map" | "object";

export interface Field {
  name: string;
  label: string;
  help?: string;
  kind: Kind;
  required: boolean;
  /** Accepts null: an emptied field is sent as null (cleared), not left out (kept). */
  nullable: boolean;
  /** Write-only: never shown nor prefilled, only replaced. */
  secret: boolean;
  options: string[];
  schema: JsonSchema; // for "object": its own fields
  fallback: unknown; // the schema's default
}

/** A value in the form: text for strings and numbers, booleans, lists, pairs, nested values. */
export type Values = Record<string, unknown>;
export type Pairs = [string, string][];

const SECRET_SET = "set";

/** The schema behind `$ref` (within the root's `$defs`) and without its `anyOf: [X, null]`. */
function resolve(schema: JsonSchema, root: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  let found = schema;
  let nullable = false;
  if (found.anyOf) {
    const kept = found.anyOf.filter((s) => s.type !== "null");
    nullable = kept.length < found.anyOf.length;
    found = { ...kept[0], title: found.title, description: found.description, default: found.default };
  }
  if (found.$ref) {
    const name = found.$ref.split("/").pop() ?? "";
    found = { ...root.$defs?.[name], title: found.title ?? root.$defs?.[name]?.title, description: found.description };
  }
  return { schema: found, nullable };
}

function kindOf(schema: JsonSchema): Kind {
  if (schema.enum) return "enum";
  if (schema.type === "array") return "strings";
  if (schema.type === "object") return schema.properties ? "object" : "map";
  if (schema.type === "boolean" || schema.type === "number" || schema.type === "integer") return schema.type;
  return "string";
}

function isSecret(schema: JsonSchema): boolean {
  const inner = typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined;
  return Boolean(schema.writeOnly || schema.format === "password" || inner?.writeOnly);
}

/** The form's fields, in the schema's order; `secrets` names the connector's secret fields. */
export function fieldsOf(schema: JsonSchema, secrets: string[] = [], root: JsonSchema = schema): Field[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, raw]) => {
    const { schema: own, nullable } = resolve(raw, root);
    return {
      name,
      label: own.title ?? name,
      help: own.description,
      kind: kindOf(own),
      required: required.has(name) && !nullable,
      nullable,
      secret: secrets.includes(name) || isSecret(own),
      options: (own.enum ?? []).map(String),
      schema: own,
      fallback: own.default ?? raw.default,
    };
  });
}

/** The form's starting values: the saved config (secrets never: they are not sent back) or
 * the schema's defaults. */
export function initialValues(fields: Field[], config: Values | undefined, root: JsonSchema): Values {
  const values: Values = {};
  for (const field of fields) {
    const saved = config?.[field.name];
    if (field.secret) values[field.name] = field.kind === "map" ? [] : "";
    else if (field.kind === "object")
      values[field.name] = initialValues(
        fieldsOf(field.schema, [], root),
        (saved ?? field.fallback) as Values | undefined,
        root,
      );
    else values[field.name] = startOf(field, saved === undefined ? field.fallback : saved);
  }
  return values;
}

function startOf(field: Field, value: unknown): unknown {
  if (field.kind === "boolean") return Boolean(value);
  if (field.kind === "strings") return Array.isArray(value) ? value.map(String) : [];
  if (field.kind === "map")
    return value && typeof value === "object" ? Object.entries(value).map(([k, v]) => [k, String(v)]) : [];
  return value === null || value === undefined ? "" : String(value);
}

/** True when a saved secret field holds a value (the API answers `{"set": true}` for one). */
export function secretIsSet(config: Values | undefined, name: string): boolean {
  const value = config?.[name];
  return Boolean(value && typeof value === "object" && (value as Record<string, unknown>)[SECRET_SET]);
}

/** The config to send. `keep` lists secret fields left as they are (left out, so that the
 * server keeps them); an empty optional field is left out too (its default applies), or sent
 * as null when the schema allows null. */
export function toConfig(fields: Field[], values: Values, root: JsonSchema, keep: Set<string> = new Set()): Values {
  const config: Values = {};
  for (const field of fields) {
    if (keep.has(field.name)) continue;
    const value = valueOf(field, values[field.name], root);
    if (value !== undefined) config[field.name] = value;
  }
  return config;
}

function valueOf(field: Field, value: unknown, root: JsonSchema): unknown {
  switch (field.kind) {
    case "boolean":
      return Boolean(value);
    case "object":
      return toConfig(fieldsOf(field.schema, [], root), value as Values, root);
    case "strings": {
      const items = (value as string[]).map((s) => s.trim()).filter(Boolean);
      return items.length || field.required ? items : undefined;
    }
    case "map": {
      const pairs = (value as Pairs).filter(([k]) => k.trim());
      return pairs.length || field.required ? Object.fromEntries(pairs.map(([k, v]) => [k.trim(), v])) : undefined;
    }
    case "number":
    case "integer": {
      const text = String(value).trim();
      if (text !== "") return Number(text);
      return field.nullable ? null : undefined;
    }
    default: {
      const text = String(value);
      if (text.trim() !== "") return text;
      return field.nullable && !field.secret ? null : undefined;
    }
  }
}
