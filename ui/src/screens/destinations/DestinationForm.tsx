// A destination's name and its connector's config, in a card: creating one, or editing it
// (then saved secrets are kept unless replaced, and only what changed is sent).
import { type FormEvent, useMemo, useState } from "react";
import { ErrorNote } from "../../components/Notes";
import { ConfigForm } from "./ConfigForm";
import { type Destination, type Kind, schemaOf } from "./queries";
import { fieldsOf, initialValues, toConfig, type Values } from "./schema";

export interface Saved {
  name: string;
  config: Values;
}

interface Props {
  kind: Kind;
  /** The destination being edited; absent when creating. */
  editing?: Destination;
  submitLabel: string;
  pending: boolean;
  error: unknown;
  onSubmit: (saved: Saved) => void;
  onCancel: () => void;
}

export function DestinationForm({ kind, editing, submitLabel, pending, error, onSubmit, onCancel }: Props) {
  const schema = schemaOf(kind);
  const fields = useMemo(() => fieldsOf(schema, kind.secret_fields), [schema, kind.secret_fields]);
  const [name, setName] = useState(editing?.name ?? kind.title);
  const [values, setValues] = useState<Values>(() => initialValues(fields, editing?.config, schema));
  // Saved secrets are kept (left out of the change) until the person chooses to replace one.
  const [kept, setKept] = useState<Set<string>>(
    () => new Set(editing ? fields.filter((f) => f.secret).map((f) => f.name) : []),
  );
  const replace = (field: string, replacing: boolean) =>
    setKept((old) => {
      const next = new Set(old);
      if (replacing) next.delete(field);
      else next.add(field);
      return next;
    });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit({ name, config: toConfig(fields, values, schema, kept) });
  };
  const title = editing ? "Settings" : `New ${kind.title} destination`;
  return (
    <form className="card" onSubmit={submit} aria-labelledby="destination-form-title">
      <h2 id="destination-form-title">{title}</h2>
      <label>
        Name
        <input required value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <ConfigForm
        schema={schema}
        secrets={kind.secret_fields}
        values={values}
        onChange={setValues}
        saved={editing?.config}
        kept={kept}
        onReplace={replace}
      />
      {error ? <ErrorNote error={error} /> : null}
      <div className="row">
        <button type="submit" className="primary" disabled={pending}>
          {submitLabel}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
