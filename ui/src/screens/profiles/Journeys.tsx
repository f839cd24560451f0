// The journeys a profile went through (or is in), each step by step: the node (by its label and
// type in the instance's version), the port it left by, when, and why.
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading } from "../../components/Notes";
import { when } from "./shared";

type Instance = components["schemas"]["InstanceView"];
type Step = Instance["steps"][number];

const STATES: Record<Instance["state"], string> = {
  active: "moving on",
  waiting: "waiting",
  completed: "completed",
  exited: "left",
  failed: "failed",
};

export function ProfileJourneys({ profileId }: { profileId: string }) {
  const workspace = useWorkspace();
  const found = useQuery({
    queryKey: ["profile-journeys", workspace, profileId],
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/profiles/{profile_id}/journeys", {
          params: { path: { workspace, profile_id: profileId } },
        }),
      ),
    refetchInterval: 5000,
  });
  // the node types' titles ("Send to a destination"): the same query as the journey editor's
  const types = useQuery({
    queryKey: ["journey-node-types"],
    queryFn: () => ok(api.GET("/api/v1/journey-node-types")),
    staleTime: Infinity,
  });
  const title = (type: string) => types.data?.find((t) => t.type === type)?.title ?? type;
  if (found.isPending) return <Loading what="journeys" />;
  if (found.error) return <ErrorNote error={found.error} retry={() => found.refetch()} />;
  if (found.data.length === 0) {
    return (
      <Empty title="In no journey yet">
        <p>A live journey takes this profile in when its trigger happens (an event, an audience, a schedule) or when someone starts it.</p>
      </Empty>
    );
  }
  return (
    <section aria-label="Journeys of the profile">
      {found.data.map((way) => (
        <article className="card" key={way.id} aria-label={`Journey ${way.journey}`}>
          <h2>
            <Link to={`/w/${encodeURIComponent(workspace)}/journeys/${encodeURIComponent(way.journey)}`}>{way.journey}</Link>{" "}
            <span className="badge">{STATES[way.state]}</span>
          </h2>
          <p className="muted small">
            Version {way.version} · entered {when(way.entered_at)}
            {way.waiting_until ? ` · waits at ${way.node_label || way.node} until ${when(way.waiting_until)}` : ""}
            {way.ended_at ? ` · ended ${when(way.ended_at)} (${way.end_reason ?? ""})` : ""}
            {way.converted_at ? ` · reached the goal ${when(way.converted_at)}` : ""}
          </p>
          {way.error && <p className="note error">{way.error}</p>}
          <ol aria-label="Steps">
            {way.steps.map((step) => (
              <li key={step.step}>
                <StepNode step={step} version={way.version} title={title} />
                {step.port ? ` → ${step.port}` : ""} <span className="muted small">{when(step.left_at)}</span>
                {step.detail ? <span className="small"> · {step.detail}</span> : null}
              </li>
            ))}
          </ol>
        </article>
      ))}
    </section>
  );
}

/** A step's node by its label and type (its id when it has no label), or said to be gone. */
function StepNode({ step, version, title }: { step: Step; version: number; title: (type: string) => string }) {
  if (step.type === null) {
    return (
      <>
        <strong>{step.node}</strong> <span className="muted small">(no longer a step of version {version})</span>
      </>
    );
  }
  return (
    <>
      <strong>{step.label || step.node}</strong> <span className="muted small">{title(step.type)}</span>
    </>
  );
}
