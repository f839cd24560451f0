// A node's config as form controls, from its type's JSON Schema (see schema.ts). Conditions use
// the audience builder; free objects (headers, properties, body) are JSON text.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, inWorkspace, ok } from "../../api/client";
import { useWorkspace } from "../../app/session";
import { ConditionBuilder } from "../audiences/Builder";
import { calls, isList } from "../audiences/calls";
import { type Condition, fromQuery, type Group, type PropertyFilter, toQuery } from "../audiences/conditions";
import { WhereList } from "../audiences/fields";
import { GotoTarget } from "./GotoTarget";
import { type Field, fieldsOf, itemLabel, itemsOf, type JsonSchema, readScalar, showScalar, withValue } from "./schema";

type Values = Record<string, unknown>;

interface Props {
  schema: JsonSchema;
  root: JsonSchema;
  values: Values;
  onChange: (values: Values) => void;
  readOnly: boolean;
  /** Prefix of labels that must be unique on the page (condition builders). */
  path: string;
}

export function ConfigFields({ schema, root, values, onChange, readOnly, path }: Props) {
  return (
    <>
      {fieldsOf(schema, root).map((field) => (
        <FieldControl
          key={field.name}
          field={field}
          root={root}
          value={values[field.name]}
          set={(value) => onChange(withValue(values, field.name, value))}
          readOnly={readOnly}
          path={`${path} ${field.label}`}
        />
      ))}
    </>
  );
}

interface ControlProps {
  field: Field;
  root: JsonSchema;
  value: unknown;
  set: (value: unknown) => void;
  readOnly: boolean;
  path: string;
}

function FieldControl(props: ControlProps) {
  const { field, value, set, readOnly } = props;
  const names = field.schema["x-headwater-names"];
  if (names === "destination") return <DestinationPicker {...props} />;
  if (names === "list_audience") return <ListAudiencePicker {...props} />;
  if (names === "node") return <GotoTarget label={field.label} value={value} set={set} readOnly={readOnly} />;
  // an event spec's property filters (a wait's events): the condition builder's own controls
  if (field.name === "where" && field.kind === "list") return <WhereField {...props} />;
  switch (field.kind) {
    case "object":
      return <ObjectField {...props} />;
    case "list":
      return <ListField {...props} />;
    case "condition":
      return <ConditionField {...props} />;
    case "json":
      return <JsonField {...props} />;
    case "boolean":
      return (
        <label className="inline">
          <input type="checkbox" disabled={readOnly} checked={Boolean(value)} onChange={(e) => set(e.target.checked)} />
          {field.label}
        </label>
      );
    case "enum":
      return (
        <label>
          {field.label}
          <select
            aria-label={field.label}
            disabled={readOnly}
            value={String(value ?? "")}
            onChange={(e) => set(e.target.value || undefined)}
          >
            {(field.optional || value === undefined) && <option value="">(default)</option>}
            {(field.schema.enum ?? []).map((option) => (
              <option key={option}>{option}</option>
            ))}
          </select>
        </label>
      );
    case "integer":
    case "number":
      return (
        <label>
          {field.label}
          <input
            type="number"
            readOnly={readOnly}
            step={field.kind === "integer" ? 1 : "any"}
            min={field.schema.minimum}
            value={value === undefined || value === null ? "" : String(value)}
            onChange={(e) => set(e.target.value === "" ? undefined : Number(e.target.value))}
          />
        </label>
      );
    case "string":
      return (
        <label>
          {field.label}
          <input
            readOnly={readOnly}
            value={String(value ?? "")}
            onChange={(e) => set(e.target.value === "" && field.optional ? undefined : e.target.value)}
          />
        </label>
      );
    default:
      return (
        <label>
          {field.label}
          <input readOnly={readOnly} value={showScalar(value)} onChange={(e) => set(readScalar(e.target.value))} />
        </label>
      );
  }
}

function ObjectField({ field, root, value, set, readOnly, path }: ControlProps) {
  const present = value !== undefined && value !== null;
  return (
    <fieldset>
      <legend>{field.label}</legend>
      {field.optional && (
        <label className="inline">
          <input type="checkbox" disabled={readOnly} checked={present} onChange={(e) => set(e.target.checked ? {} : undefined)} />
          Use {field.label.toLowerCase()}
        </label>
      )}
      {present && (
        <ConfigFields schema={field.schema} root={root} values={value as Values} onChange={set} readOnly={readOnly} path={path} />
      )}
    </fieldset>
  );
}

function ListField({ field, root, value, set, readOnly, path }: ControlProps) {
  const items = Array.isArray(value) ? (value as Values[]) : [];
  const schema = itemsOf(field, root);
  const change = (index: number, item: Values) => set(items.map((old, i) => (i === index ? item : old)));
  return (
    <fieldset>
      <legend>{field.label}</legend>
      {items.map((item, index) => {
        const name = `${itemLabel(field.label)} ${index + 1}`;
        return (
          <fieldset key={index} className="list-item">
            <legend>{name}</legend>
            <ConfigFields
              schema={schema}
              root={root}
              values={item}
              onChange={(next) => change(index, next)}
              readOnly={readOnly}
              path={`${path} ${index + 1}`}
            />
            {!readOnly && (
              <button type="button" onClick={() => set(items.filter((_, i) => i !== index))}>
                Remove {name}
              </button>
            )}
          </fieldset>
        );
      })}
      {!readOnly && (
        <button type="button" onClick={() => set([...items, {}])}>
          Add {itemLabel(field.label).toLowerCase()}
        </button>
      )}
    </fieldset>
  );
}

function ConditionField({ field, value, set, readOnly, path }: ControlProps) {
  const workspace = useWorkspace();
  // the same query as the audience builder's: journeys act on people, so user audiences only
  const audiences = useQuery({ queryKey: ["audiences", workspace], queryFn: () => calls("audiences", workspace).list() });
  const keys = (audiences.data ?? []).filter((a) => a.subject === "user").map((a) => a.key);
  // the builder keeps ids of its own in its state: kept here, the document gets the condition
  const [query, setQuery] = useState<Group>(() => toQuery((value ?? { type: "and", conditions: [] }) as Condition));
  if (readOnly) {
    return (
      <div className="field">
        <span className="field-label">{field.label}</span>
        <pre className="json">{JSON.stringify(value, null, 2)}</pre>
      </div>
    );
  }
  const change = (next: Group) => {
    setQuery(next);
    set(fromQuery(next));
  };
  return (
    <fieldset>
      <legend>{field.label}</legend>
      <ConditionBuilder query={query} onChange={change} subject="user" audiences={keys} prefix={`${path.trim()}: `} />
    </fieldset>
  );
}

function WhereField({ field, value, set, readOnly, path }: ControlProps) {
  return (
    <fieldset disabled={readOnly}>
      <legend>{field.label}</legend>
      <WhereList label={path.trim()} where={value as PropertyFilter[] | undefined} onChange={(where) => set(where.length ? where : undefined)} />
    </fieldset>
  );
}

function JsonField({ field, value, set, readOnly }: ControlProps) {
  const [text, setText] = useState(() => (value === undefined ? "" : JSON.stringify(value, null, 2)));
  const [wrong, setWrong] = useState(false);
  const change = (next: string) => {
    setText(next);
    if (next.trim() === "") {
      setWrong(false);
      set(undefined);
      return;
    }
    try {
      set(JSON.parse(next));
      setWrong(false);
    } catch {
      setWrong(true);
    }
  };
  return (
    <div className="field">
      <label>
        {field.label} (JSON)
        <textarea readOnly={readOnly} rows={3} value={text} aria-invalid={wrong} onChange={(e) => change(e.target.value)} />
      </label>
      {wrong && <small className="error-text">This is not JSON yet: it is kept as it was until it is.</small>}
    </div>
  );
}

/** A send's destination, chosen by name among the workspace's. */
function DestinationPicker({ field, value, set, readOnly }: ControlProps) {
  const workspace = useWorkspace();
  const destinations = useQuery({
    queryKey: ["destinations", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/destinations", inWorkspace(workspace))),
  });
  const known = destinations.data ?? [];
  return (
    <label>
      {field.label}
      <select
        aria-label={field.label}
        disabled={readOnly}
        value={value === undefined || value === null ? "" : String(value)}
        onChange={(e) => set(e.target.value === "" ? undefined : Number(e.target.value))}
      >
        <option value="">{known.length ? "Choose a destination" : "No destination yet: add one first"}</option>
        {known.map((d) => (
          <option key={d.id} value={d.id}>
            {d.name}
            {d.enabled ? "" : " (disabled)"}
          </option>
        ))}
        {typeof value === "number" && !known.some((d) => d.id === value) && destinations.isSuccess ? (
          <option value={value}>Destination {value} (deleted)</option>
        ) : null}
      </select>
    </label>
  );
}

/** An audience, chosen by name among the workspace's user audiences. */
/** The workspace's list audiences (those whose members are set, not computed). */
function ListAudiencePicker({ field, value, set, readOnly }: ControlProps) {
  const workspace = useWorkspace();
  const audiences = useQuery({ queryKey: ["audiences", workspace], queryFn: () => calls("audiences", workspace).list() });
  const known = (audiences.data ?? []).filter((a) => isList(a));
  return (
    <label>
      {field.label}
      <select
        aria-label={field.label}
        disabled={readOnly}
        value={String(value ?? "")}
        onChange={(e) => set(e.target.value || undefined)}
      >
        <option value="">{known.length ? "Choose a list audience" : "No list audience yet: create one under Audiences"}</option>
        {known.map((a) => (
          <option key={a.key} value={a.key}>
            {a.name}
          </option>
        ))}
        {typeof value === "string" && value && audiences.data && !known.some((a) => a.key === value) && (
          <option value={value}>{value} (not a list audience)</option>
        )}
      </select>
    </label>
  );
}
