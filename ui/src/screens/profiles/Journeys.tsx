// The journeys a profile went through (or is in), each step by step: the node, the port it left
// by, when, and why.
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading } from "../../components/Notes";
import { when } from "./shared";

type Instance = components["schemas"]["InstanceView"];

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
            {way.waiting_until ? ` · waits at ${way.node} until ${when(way.waiting_until)}` : ""}
            {way.ended_at ? ` · ended ${when(way.ended_at)} (${way.end_reason ?? ""})` : ""}
            {way.converted_at ? ` · reached the goal ${when(way.converted_at)}` : ""}
          </p>
          {way.error && <p className="note error">{way.error}</p>}
          <ol aria-label="Steps">
            {way.steps.map((step) => (
              <li key={step.step}>
                <strong>{step.node}</strong>
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
