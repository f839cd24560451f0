// One schema (an event's properties, or traits) as a form of properties, with the JSON Schema
// itself as the advanced way; and the same schema read-only for roles that may not edit.
import { useState } from "react";
import {
  emptyRow,
  formable,
  fromForm,
  parseSchema,
  problems,
  type PropertyRow,
  type SchemaForm,
  toForm,
  TYPES,
  typeLabel,
} from "./schemaForm";

type Json = Record<string, unknown>;

interface Props {
  /** Names the schema in labels ("Order Completed properties"). */
  label: string;
  schema: Json;
  onChange: (schema: Json, problems: string[]) => void;
}

export function SchemaFields({ label, schema, onChange }: Props) {
  const canForm = formable(schema);
  const [advanced, setAdvanced] = useState(!canForm);
  const [form, setForm] = useState<SchemaForm>(() => toForm(canForm ? schema : {}));
  const change = (next: SchemaForm) => {
    setForm(next);
    onChange(fromForm(next), problems(next.rows));
  };
  const showForm = () => {
    setForm(toForm(schema));
    setAdvanced(false);
  };
  return (
    <section aria-label={label}>
      <div className="row spread">
        <h3>{advanced ? "JSON Schema" : "Properties"}</h3>
        {advanced ? (
          canForm && (
            <button type="button" onClick={showForm}>
              Back to the form
            </button>
          )
        ) : (
          <button type="button" onClick={() => setAdvanced(true)}>
            Advanced: edit the JSON Schema
          </button>
        )}
      </div>
      {advanced ? (
        <JsonSchemaText label={label} schema={schema} onChange={onChange} />
      ) : (
        <RowsForm form={form} onChange={change} />
      )}
    </section>
  );
}

function RowsForm({ form, onChange }: { form: SchemaForm; onChange: (form: SchemaForm) => void }) {
  const setRow = (index: number, patch: Partial<PropertyRow>) =>
    onChange({ ...form, rows: form.rows.map((row, i) => (i === index ? { ...row, ...patch } : row)) });
  const remove = (index: number) => onChange({ ...form, rows: form.rows.filter((_, i) => i !== index) });
  const found = problems(form.rows);
  return (
    <>
      {form.rows.length === 0 ? (
        <p className="muted">No property is planned: any properties are accepted. Add the ones this event should carry.</p>
      ) : (
        <div className="table-scroll">
          <table className="properties">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Required</th>
                <th scope="col">Description</th>
                <th scope="col">Allowed values</th>
                <th scope="col">Pattern</th>
                <th scope="col">
                  <span className="sr-only">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {form.rows.map((row, index) => (
                <RowFields key={index} row={row} index={index} onChange={(patch) => setRow(index, patch)} onRemove={() => remove(index)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {found.length > 0 && (
        <ul className="note error" role="alert" aria-label="Problems">
          {found.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      )}
      <button type="button" onClick={() => onChange({ ...form, rows: [...form.rows, emptyRow()] })}>
        Add a property
      </button>
    </>
  );
}

interface RowProps {
  row: PropertyRow;
  index: number;
  onChange: (patch: Partial<PropertyRow>) => void;
  onRemove: () => void;
}

function RowFields({ row, index, onChange, onRemove }: RowProps) {
  const who = row.name.trim() || `property ${index + 1}`;
  return (
    <tr>
      <td>
        <input aria-label={`Name of property ${index + 1}`} value={row.name} onChange={(e) => onChange({ name: e.target.value })} />
      </td>
      <td>
        <select aria-label={`Type of ${who}`} value={row.kind} onChange={(e) => onChange({ kind: e.target.value as PropertyRow["kind"] })}>
          {TYPES.map((type) => (
            <option key={type} value={type}>
              {type}
            </option>
          ))}
          <option value="any">any</option>
          {row.rest.type !== undefined && <option value="kept">{typeLabel({ ...row, kind: "kept" })}</option>}
        </select>
      </td>
      <td>
        <input type="checkbox" aria-label={`${who} is required`} checked={row.required} onChange={(e) => onChange({ required: e.target.checked })} />
      </td>
      <td>
        <input aria-label={`Description of ${who}`} value={row.description} onChange={(e) => onChange({ description: e.target.value })} />
      </td>
      <td>
        <input
          aria-label={`Allowed values of ${who}`}
          placeholder="any value"
          value={row.values}
          onChange={(e) => onChange({ values: e.target.value })}
        />
      </td>
      <td>
        <input aria-label={`Pattern of ${who}`} placeholder="none" value={row.pattern} onChange={(e) => onChange({ pattern: e.target.value })} />
      </td>
      <td>
        <button type="button" className="danger" aria-label={`Remove ${who}`} onClick={onRemove}>
          Remove
        </button>
      </td>
    </tr>
  );
}

function JsonSchemaText({ label, schema, onChange }: Props) {
  const [text, setText] = useState(() => JSON.stringify(schema, null, 2));
  const [problem, setProblem] = useState<string | null>(null);
  const edit = (value: string) => {
    setText(value);
    const parsed = parseSchema(value);
    if ("problem" in parsed) {
      setProblem(parsed.problem);
      onChange(schema, [parsed.problem]);
    } else {
      setProblem(null);
      onChange(parsed.schema, []);
    }
  };
  return (
    <>
      <label>
        {`JSON Schema of ${label}`}
        <textarea className="code" rows={16} spellCheck={false} value={text} onChange={(e) => edit(e.target.value)} />
      </label>
      <p className="muted small">JSON Schema draft-07. Headwater checks the whole schema when you save.</p>
      {problem && (
        <p className="note error" role="alert">
          {problem}
        </p>
      )}
    </>
  );
}

/** The schema for reading: a table of its properties, or the JSON when a table cannot say it. */
export function SchemaView({ label, schema }: { label: string; schema: Json }) {
  if (!formable(schema)) return <pre tabIndex={0} aria-label={label}>{JSON.stringify(schema, null, 2)}</pre>;
  const { rows, rest } = toForm(schema);
  if (rows.length === 0) return <p className="muted">No property is planned: any properties are accepted.</p>;
  return (
    <>
      <table className="wide" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Required</th>
            <th scope="col">Description</th>
            <th scope="col">Allowed values</th>
            <th scope="col">Pattern</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.name}>
              <td>
                <code>{row.name}</code>
              </td>
              <td>{typeLabel(row)}</td>
              <td>{row.required ? "Required" : "Optional"}</td>
              <td>{row.description}</td>
              <td>{row.values}</td>
              <td>{row.pattern && <code>{row.pattern}</code>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {Object.keys(rest).some((key) => key !== "type") && (
        <details>
          <summary>Other rules of this schema</summary>
          <pre tabIndex={0}>{JSON.stringify(rest, null, 2)}</pre>
        </details>
      )}
    </>
  );
}
