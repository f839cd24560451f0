// Tracking plans: the plans of the workspace, and what they caught (violations, the quarantine).
import { useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, inWorkspace, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { Tabs } from "../../components/Tabs";
import { Quarantine } from "./Quarantine";
import { useSources } from "./sources";
import { Violations } from "./Violations";

type Plan = components["schemas"]["PlanView"];
type Source = components["schemas"]["SourceView"];

export default function Plans() {
  const canWrite = useCan("plans:write");
  const navigate = useNavigate();
  const tabs = [
    { id: "plans", label: "Plans", content: <PlanList /> },
    { id: "violations", label: "Violations", content: <Violations /> },
    { id: "quarantine", label: "Quarantine", content: <Quarantine /> },
  ];
  return (
    <>
      <PageHeader title="Tracking plans">
        {canWrite && (
          <button type="button" className="primary" onClick={() => navigate("new")}>
            Create a plan
          </button>
        )}
      </PageHeader>
      <Tabs label="Tracking plans" tabs={tabs} />
    </>
  );
}

function PlanList() {
  const workspace = useWorkspace();
  const canWrite = useCan("plans:write");
  const plans = useQuery({
    queryKey: ["tracking-plans", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/tracking-plans", inWorkspace(workspace))),
  });
  const sources = useSources();
  if (plans.isPending || sources.isPending) return <Loading what="tracking plans" />;
  if (plans.error) return <ErrorNote error={plans.error} retry={() => plans.refetch()} />;
  if (sources.error) return <ErrorNote error={sources.error} retry={() => sources.refetch()} />;
  if (plans.data.length === 0) {
    return (
      <Empty title="No tracking plan yet">
        <p>
          A tracking plan says which events your sources may send and what their properties look like. Connected to a
          source, it checks every event before it reaches profiles and destinations: mistakes are counted with samples,
          and can be flagged, trimmed or held in a quarantine until fixed.
        </p>
        {canWrite ? <Start sources={sources.data} /> : <p>Ask a developer of this workspace to create one.</p>}
      </Empty>
    );
  }
  const names = new Map(sources.data.map((s) => [s.id, s.name]));
  return (
    <table className="wide" aria-label="Plans">
      <thead>
        <tr>
          <th scope="col">Plan</th>
          <th scope="col">Version</th>
          <th scope="col">Sources</th>
          <th scope="col">Changed</th>
        </tr>
      </thead>
      <tbody>
        {plans.data.map((plan: Plan) => (
          <tr key={plan.slug}>
            <td>
              <Link to={plan.slug}>{plan.name}</Link>
            </td>
            <td>{plan.version}</td>
            <td>{plan.sources.map((id) => names.get(id) ?? `#${id}`).join(", ") || <span className="muted">none</span>}</td>
            <td>{new Date(plan.updated_at).toLocaleString()}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The two ways to begin: from what a source already sends, or from nothing. */
function Start({ sources }: { sources: Source[] }) {
  const navigate = useNavigate();
  const [source, setSource] = useState(sources[0]?.id);
  // a label around a select would take the chosen option into the select's name
  const id = useId();
  return (
    <div className="row wrap">
      {sources.length > 0 && (
        <>
          <label className="inline" htmlFor={id}>
            Source
          </label>
          <select id={id} value={source} onChange={(e) => setSource(Number(e.target.value))}>
              {sources.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
          </select>
          <button type="button" className="primary" onClick={() => navigate(`new?source=${source}`)}>
            Draft one from what a source already sends
          </button>
        </>
      )}
      <button type="button" onClick={() => navigate("new")}>
        Create a plan
      </button>
    </div>
  );
}
