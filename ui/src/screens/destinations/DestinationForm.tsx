// Everything about a destination the API lets a person set, in a card: its name and connector
// config, the sources that feed it, which events it is sent, the consent it needs, whether it
// sends, and how. Creating one, or editing it (then saved secrets are kept unless replaced).
import { type FormEvent, useMemo, useState } from "react";
import { ErrorNote } from "../../components/Notes";
import { ConfigForm } from "./ConfigForm";
import { ConsentField } from "./ConsentField";
import { deliveryOf, type DeliveryDraft, draftOf } from "./delivery";
import { DeliveryFields } from "./DeliveryFields";
import { FieldErrors } from "./FieldErrors";
import { FilterEditor } from "./FilterEditor";
import type { Filter } from "./filters";
import { type Destination, type Kind, schemaOf } from "./queries";
import { fieldsOf, initialValues, toConfig, type Values } from "./schema";
import { SourcesField } from "./SourcesField";

// a type, not an interface: the change body (extra fields allowed) takes only indexable types
export type Saved = {
  name: string;
  config: Values;
  sources: number[] | null;
  filters: Filter[];
  categories: string[] | null;
  delivery: Record<string, number | boolean | null>;
  enabled: boolean;
};

interface Props {
  kind: Kind;
  /** Every connector's consent categories, offered as choices. */
  categories: string[];
  /** The destination being edited; absent when creating. */
  editing?: Destination;
  submitLabel: string;
  pending: boolean;
  error: unknown;
  onSubmit: (saved: Saved) => void;
  onCancel: () => void;
}

const DEFAULT_DELIVERY: DeliveryDraft = {
  batch_size: "",
  concurrency: "",
  rate_limit: "",
  ordered: false,
  retry_window_seconds: "",
  timeout_seconds: "",
  alert_below: "",
  alert_window_minutes: "",
};

export function DestinationForm({ kind, categories, editing, submitLabel, pending, error, onSubmit, onCancel }: Props) {
  const schema = schemaOf(kind);
  const fields = useMemo(() => fieldsOf(schema, kind.secret_fields), [schema, kind.secret_fields]);
  const [name, setName] = useState(editing?.name ?? kind.title);
  const [values, setValues] = useState<Values>(() => initialValues(fields, editing?.config, schema));
  const [sources, setSources] = useState(editing?.sources ?? null);
  const [filters, setFilters] = useState<Filter[] | null>((editing?.filters ?? []) as Filter[]);
  const [consent, setConsent] = useState(editing?.categories ?? null);
  const [delivery, setDelivery] = useState(editing ? draftOf(editing.delivery) : DEFAULT_DELIVERY);
  const [enabled, setEnabled] = useState(editing?.enabled ?? true);
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
    if (filters === null) return; // the JSON typed is not a list: the editor says so
    onSubmit({
      name,
      config: toConfig(fields, values, schema, kept),
      sources,
      filters,
      categories: consent,
      delivery: deliveryOf(delivery),
      enabled,
    });
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
      <SourcesField value={sources} onChange={setSources} />
      <FilterEditor filters={filters ?? []} onChange={setFilters} />
      <ConsentField value={consent} defaults={kind.categories} known={categories} onChange={setConsent} />
      <DeliveryFields draft={delivery} onChange={setDelivery} />
      <label className="inline">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        Send events to this destination (untick to pause: new events are not queued meanwhile)
      </label>
      {error ? <ErrorNote error={error} /> : null}
      <FieldErrors error={error} />
      <div className="row">
        <button type="submit" className="primary" disabled={pending || filters === null}>
          {submitLabel}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
