// A new plan: empty, or drafted from the events a source has sent (its observed schema).
import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api, ok } from "../../api/client";
import { useCan, useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { useSources } from "./sources";
import type { PlanDocument } from "./schemaForm";

export default function NewPlan() {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const canWrite = useCan("plans:write");
  const [search] = useSearchParams();
  const [name, setName] = useState("");
  const [source, setSource] = useState<number | null>(search.get("source") ? Number(search.get("source")) : null);
  const sources = useSources();
  const draft = useQuery({
    queryKey: ["observed-schema", workspace, source, "plan"],
    enabled: source !== null,
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/sources/{source_id}/observed-schema/plan", {
          params: { path: { workspace, source_id: source ?? 0 } },
        }),
      ),
  });
  const create = useMutation({
    mutationFn: (document: PlanDocument) =>
      ok(api.POST("/api/v1/workspaces/{workspace}/tracking-plans", { params: { path: { workspace } }, body: document })),
    onSuccess: (plan) => navigate(`/w/${encodeURIComponent(workspace)}/plans/${encodeURIComponent(plan.slug)}`),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const events = source !== null && draft.data ? draft.data : { name, events: [] };
    create.mutate({ ...events, name });
  };
  if (!canWrite) {
    return (
      <Empty title="Creating plans is not for your role">
        <p>Ask a developer of this workspace to create one.</p>
      </Empty>
    );
  }
  return (
    <>
      <p className="crumbs">
        <Link to={`/w/${encodeURIComponent(workspace)}/plans`}>Tracking plans</Link> ›
      </p>
      <PageHeader title="New tracking plan" />
      <form className="card" onSubmit={submit} aria-label="New tracking plan">
        <label>
          Plan name
          <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="Web shop" />
        </label>
        <fieldset>
          <legend>Start from</legend>
          <label className="inline">
            <input type="radio" name="start" checked={source === null} onChange={() => setSource(null)} />
            Nothing: add events one by one
          </label>
          {(sources.data ?? []).map((s) => (
            <label key={s.id} className="inline">
              <input type="radio" name="start" checked={source === s.id} onChange={() => setSource(s.id)} />
              What “{s.name}” already sends
            </label>
          ))}
        </fieldset>
        {source !== null && <DraftSummary pending={draft.isPending} error={draft.error} document={draft.data} />}
        {create.error && <ErrorNote error={create.error} />}
        <div className="row">
          <button type="submit" className="primary" disabled={create.isPending || (source !== null && !draft.data)}>
            Create plan
          </button>
          <Link className="button" to={`/w/${encodeURIComponent(workspace)}/plans`}>
            Cancel
          </Link>
        </div>
      </form>
    </>
  );
}

interface SummaryProps {
  pending: boolean;
  error: Error | null;
  document: PlanDocument | undefined;
}

function DraftSummary({ pending, error, document }: SummaryProps) {
  if (pending) return <Loading what="the draft" />;
  if (error || !document) return <ErrorNote error={error} />;
  if (document.events.length === 0) {
    return (
      <p className="note">
        This source has not sent any track, page or screen event yet: the plan starts empty. Send a few events first, or
        add events by hand after creating it.
      </p>
    );
  }
  return (
    <section aria-label="Draft" className="note">
      <p>
        Drafted from what the source sent: {document.events.length} event{document.events.length === 1 ? "" : "s"} (
        {document.events.map((e) => e.name).join(", ")}). A property is required when every event carried it. You can
        change all of it after creating the plan.
      </p>
    </section>
  );
}
