// A connector's config as form controls, rendered from its JSON Schema (see schema.ts).
// Secrets are write-only: a saved one reads "set, hidden" with a Replace action, never its value.
import { type ReactNode, useId } from "react";
import { type Field, fieldsOf, type JsonSchema, type Pairs, secretIsSet, type Values } from "./schema";

interface Props {
  schema: JsonSchema;
  secrets: string[];
  values: Values;
  onChange: (values: Values) => void;
  /** The saved config (editing): its secrets show as set; absent when creating. */
  saved?: Values;
  /** Secret fields whose saved value is kept (not being replaced). */
  kept?: Set<string>;
  onReplace?: (name: string, replacing: boolean) => void;
  root?: JsonSchema;
}

export function ConfigForm({ schema, secrets, values, onChange, saved, kept, onReplace, root = schema }: Props) {
  return (
    <>
      {fieldsOf(schema, secrets, root).map((field) => {
        const set = (value: unknown) => onChange({ ...values, [field.name]: value });
        if (field.secret && saved && kept?.has(field.name)) {
          return <KeptSecret key={field.name} field={field} isSet={secretIsSet(saved, field.name)} onReplace={onReplace} />;
        }
        if (!field.secret || !saved) {
          return <FieldControl key={field.name} field={field} value={values[field.name]} set={set} root={root} />;
        }
        return (
          <div key={field.name} className="replacing">
            <FieldControl field={field} value={values[field.name]} set={set} root={root} />
            <button type="button" onClick={() => onReplace?.(field.name, false)}>
              Keep the saved {field.label}
            </button>
          </div>
        );
      })}
    </>
  );
}

function KeptSecret({
  field,
  isSet,
  onReplace,
}: {
  field: Field;
  isSet: boolean;
  onReplace: Props["onReplace"];
}) {
  const action = isSet ? "Replace" : "Set";
  return (
    <div className="secret-field">
      <span className="field-label">{field.label}</span>
      <span className="muted">{isSet ? "set, hidden" : "not set"}</span>
      <button type="button" aria-label={`${action} ${field.label}`} onClick={() => onReplace?.(field.name, true)}>
        {action}
      </button>
    </div>
  );
}

interface ControlProps {
  field: Field;
  value: unknown;
  set: (value: unknown) => void;
  root: JsonSchema;
}

function FieldControl({ field, value, set, root }: ControlProps) {
  const help = useId();
  const described = field.help ? help : undefined;
  const note = field.help && (
    <small id={help} className="muted">
      {field.help}
    </small>
  );
  if (field.kind === "object") {
    return (
      <fieldset>
        <legend>{field.label}</legend>
        {note}
        <ConfigForm schema={field.schema} secrets={[]} values={value as Values} onChange={set} root={root} />
      </fieldset>
    );
  }
  if (field.kind === "strings") return <StringList field={field} items={value as string[]} set={set} note={note} />;
  if (field.kind === "map") return <PairList field={field} pairs={value as Pairs} set={set} note={note} />;
  if (field.kind === "boolean") {
    return (
      <div className="field">
        <label className="inline">
          <input type="checkbox" checked={Boolean(value)} aria-describedby={described} onChange={(e) => set(e.target.checked)} />
          {field.label}
        </label>
        {note}
      </div>
    );
  }
  return (
    <div className="field">
      <label>
        <span>
          {field.label}
          {field.required && <span className="muted"> (required)</span>}
        </span>
        {field.kind === "enum" ? (
          <select value={String(value)} aria-describedby={described} onChange={(e) => set(e.target.value)}>
            {!field.required && <option value="">(default)</option>}
            {field.options.map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
        ) : (
          <TextInput field={field} value={value} set={set} described={described} />
        )}
      </label>
      {note}
    </div>
  );
}

function inputType(field: Field): string {
  if (field.secret) return "password";
  if (field.kind !== "string") return "number";
  return field.schema.format === "uri" ? "url" : "text";
}

function TextInput({ field, value, set, described }: Omit<ControlProps, "root"> & { described?: string }) {
  const type = inputType(field);
  const bounds =
    type === "number"
      ? { min: field.schema.minimum, max: field.schema.maximum, step: field.kind === "integer" ? 1 : "any" }
      : {};
  return (
    <input
      type={type}
      autoComplete={field.secret ? "new-password" : "off"}
      required={field.required}
      {...bounds}
      value={String(value ?? "")}
      aria-describedby={described}
      onChange={(e) => set(e.target.value)}
    />
  );
}

function StringList({ field, items, set, note }: { field: Field; items: string[]; set: (v: unknown) => void; note: ReactNode }) {
  return (
    <fieldset>
      <legend>{field.label}</legend>
      {note}
      {items.map((item, index) => (
        <div className="row" key={index}>
          <input
            aria-label={`${field.label} ${index + 1}`}
            value={item}
            onChange={(e) => set(items.map((old, i) => (i === index ? e.target.value : old)))}
          />
          <button type="button" aria-label={`Remove ${field.label} ${index + 1}`} onClick={() => set(items.filter((_, i) => i !== index))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" onClick={() => set([...items, ""])}>
        Add to {field.label}
      </button>
    </fieldset>
  );
}

function PairList({ field, pairs, set, note }: { field: Field; pairs: Pairs; set: (v: unknown) => void; note: ReactNode }) {
  const change = (index: number, part: 0 | 1, text: string) =>
    set(pairs.map((pair, i) => (i === index ? (part === 0 ? [text, pair[1]] : [pair[0], text]) : pair)));
  return (
    <fieldset>
      <legend>{field.label}</legend>
      {note}
      {pairs.map(([key, value], index) => (
        <div className="row" key={index}>
          <input aria-label={`${field.label} ${index + 1} name`} value={key} onChange={(e) => change(index, 0, e.target.value)} />
          <input
            aria-label={`${field.label} ${index + 1} value`}
            type={field.secret ? "password" : "text"}
            autoComplete={field.secret ? "new-password" : "off"}
            value={value}
            onChange={(e) => change(index, 1, e.target.value)}
          />
          <button type="button" aria-label={`Remove ${field.label} ${index + 1}`} onClick={() => set(pairs.filter((_, i) => i !== index))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" onClick={() => set([...pairs, ["", ""]])}>
        Add to {field.label}
      </button>
    </fieldset>
  );
}
