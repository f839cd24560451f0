// The plan's events (and traits), each a form of its JSON Schema; saving stores a new version.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useWorkspace } from "../../app/session";
import { ErrorNote } from "../../components/Notes";
import { SchemaFields, SchemaView } from "./SchemaFields";
import type { EventSpec, PlanDocument } from "./schemaForm";

type Plan = components["schemas"]["PlanWithDocumentView"];
type Json = Record<string, unknown>;
type Traits = "identify_traits" | "group_traits";

const TRAITS: { key: Traits; label: string }[] = [
  { key: "identify_traits", label: "Identify traits" },
  { key: "group_traits", label: "Group traits" },
];

export function PlanEditor({ plan }: { plan: Plan }) {
  const canWrite = useCan("plans:write");
  const [document, setDocument] = useState<PlanDocument>(plan.document);
  const [chosen, setChosen] = useState<string>(plan.document.events.length > 0 ? "event:0" : "identify_traits");
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  // a removed event shifts the others: a new generation remounts the form on the one now shown
  const [generation, setGeneration] = useState(0);
  const changed = JSON.stringify(document) !== JSON.stringify(plan.document);
  const blocked = Object.values(problems).some((found) => found.length > 0);

  const setSchema = (key: string, schema: Json, found: string[]) => {
    setProblems((all) => ({ ...all, [key]: found }));
    if (key.startsWith("event:")) {
      const index = Number(key.slice(6));
      setDocument((d) => ({ ...d, events: d.events.map((e, i) => (i === index ? { ...e, schema } : e)) }));
    } else {
      setDocument((d) => withTraits(d, key as Traits, schema));
    }
  };
  const setEvent = (index: number, patch: Partial<EventSpec>) =>
    setDocument((d) => ({ ...d, events: d.events.map((e, i) => (i === index ? { ...e, ...patch } : e)) }));
  const addEvent = () => {
    setDocument((d) => ({ ...d, events: [...d.events, { name: `New event ${d.events.length + 1}`, type: "track", schema: {} }] }));
    setChosen(`event:${document.events.length}`);
  };
  const removeEvent = (index: number) => {
    setDocument((d) => ({ ...d, events: d.events.filter((_, i) => i !== index) }));
    setProblems({});
    setGeneration((g) => g + 1);
    setChosen(document.events.length > 1 ? "event:0" : "identify_traits");
  };

  const index = chosen.startsWith("event:") ? Number(chosen.slice(6)) : -1;
  const event = document.events[index];
  const traits = TRAITS.find((t) => t.key === chosen);
  const label = event ? `${event.name} properties` : (traits?.label ?? "");
  const schema = (event ? event.schema : traits ? document[traits.key] : undefined) ?? {};
  return (
    <div className="plan-editor">
      <nav aria-label="Planned events" className="plan-items">
        <h2>Events</h2>
        {document.events.length === 0 && <p className="muted small">No event planned yet.</p>}
        <ul>
          {document.events.map((e, i) => (
            <li key={i}>
              <button type="button" aria-current={chosen === `event:${i}`} onClick={() => setChosen(`event:${i}`)}>
                {e.name} {e.type !== "track" && <span className="muted">({e.type})</span>}
              </button>
            </li>
          ))}
          {TRAITS.map((t) => (
            <li key={t.key}>
              <button type="button" aria-current={chosen === t.key} onClick={() => setChosen(t.key)}>
                {t.label}
              </button>
            </li>
          ))}
        </ul>
        {canWrite && (
          <button type="button" onClick={addEvent}>
            Add an event
          </button>
        )}
      </nav>
      <div className="plan-item card">
        {event && (
          <EventHeader event={event} canWrite={canWrite} onChange={(patch) => setEvent(index, patch)} onRemove={() => removeEvent(index)} />
        )}
        {traits && (
          <>
            <h2>{traits.label}</h2>
            <p className="muted">What {traits.key === "identify_traits" ? "identify()" : "group()"} calls may carry as traits.</p>
          </>
        )}
        {canWrite ? (
          <SchemaFields key={`${chosen}:${generation}`} label={label} schema={schema} onChange={(s, found) => setSchema(chosen, s, found)} />
        ) : (
          <SchemaView label={label} schema={schema} />
        )}
      </div>
      {canWrite && <SaveBar slug={plan.slug} document={document} changed={changed} blocked={blocked} />}
    </div>
  );
}

function withTraits(document: PlanDocument, key: Traits, schema: Json): PlanDocument {
  const properties = schema.properties as Json | undefined;
  const empty = Object.keys(schema).every((k) => k === "type" || k === "properties") && Object.keys(properties ?? {}).length === 0;
  const next = { ...document };
  if (empty) delete next[key];
  else next[key] = schema;
  return next;
}

interface HeaderProps {
  event: EventSpec;
  canWrite: boolean;
  onChange: (patch: Partial<EventSpec>) => void;
  onRemove: () => void;
}

function EventHeader({ event, canWrite, onChange, onRemove }: HeaderProps) {
  if (!canWrite) {
    return (
      <>
        <h2>
          {event.name} <span className="badge">{event.type}</span>
        </h2>
        {event.description && <p>{event.description}</p>}
      </>
    );
  }
  return (
    <fieldset>
      <legend>Event</legend>
      <div className="row">
        <label>
          Event name
          <input value={event.name} onChange={(e) => onChange({ name: e.target.value })} />
        </label>
        <label>
          Call
          <select value={event.type} onChange={(e) => onChange({ type: e.target.value })}>
            <option value="track">track</option>
            <option value="page">page</option>
            <option value="screen">screen</option>
          </select>
        </label>
        <label className="grow">
          Event description
          <input value={event.description ?? ""} onChange={(e) => onChange({ description: e.target.value })} />
        </label>
      </div>
      <button type="button" className="danger" onClick={onRemove}>
        Remove this event
      </button>
    </fieldset>
  );
}

interface SaveProps {
  slug: string;
  document: PlanDocument;
  changed: boolean;
  blocked: boolean;
}

function SaveBar({ slug, document, changed, blocked }: SaveProps) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const [note, setNote] = useState("");
  const save = useMutation({
    mutationFn: () =>
      ok(
        api.PUT("/api/v1/workspaces/{workspace}/tracking-plans/{slug}", {
          params: { path: { workspace, slug }, query: { note } },
          body: document,
        }),
      ),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ["tracking-plan", workspace, slug] });
      await queries.invalidateQueries({ queryKey: ["tracking-plans", workspace] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form className="card save-bar" onSubmit={submit} aria-label="Save the plan">
      <label className="grow">
        What changed (kept with the version)
        <input value={note} onChange={(e) => setNote(e.target.value)} placeholder="coupon is now required" />
      </label>
      <button type="submit" className="primary" disabled={!changed || blocked || save.isPending}>
        Save as a new version
      </button>
      <p className="muted small" role="status">
        {blocked ? "Fix the problems above to save." : changed ? "Unsaved changes." : "No unsaved change."}
      </p>
      {save.error && <ErrorNote error={save.error} />}
    </form>
  );
}
