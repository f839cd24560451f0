// What someone should look at now: processing behind or failing, rejections, destinations in
// trouble. Each line links to where it is dealt with.
import { useQueries, useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api, ok } from "../../api/client";
import { useWorkspace } from "../../app/session";
import { ErrorNote } from "../../components/Notes";
import { counted } from "../../components/words";
import { useDestinations } from "./Outgoing";

const LAG_WARNING_SECONDS = 60;

export function Attention({ since }: { since: string }) {
  const workspace = useWorkspace();
  const base = `/w/${encodeURIComponent(workspace)}`;
  const failures = useQuery({
    queryKey: ["failures", workspace, "open"],
    queryFn: () =>
      ok(api.GET("/api/v1/workspaces/{workspace}/failures", { params: { path: { workspace }, query: { status: "open" } } })),
  });
  const backlog = useQuery({
    queryKey: ["backlog"],
    queryFn: () => ok(api.GET("/api/v1/processing/backlog")),
    refetchInterval: 5_000,
  });
  const stats = useQuery({
    queryKey: ["stats", workspace, since],
    queryFn: () =>
      ok(api.GET("/api/v1/workspaces/{workspace}/stats", { params: { path: { workspace }, query: { since, interval: "hour" } } })),
  });
  const destinations = useDestinations();
  const health = useQueries({
    queries: (destinations.data ?? []).map((destination) => ({
      queryKey: ["destination-health", workspace, destination.id],
      queryFn: () =>
        ok(
          api.GET("/api/v1/workspaces/{workspace}/destinations/{destination_id}/health", {
            params: { path: { workspace, destination_id: destination.id } },
          }),
        ),
      refetchInterval: 15_000,
    })),
  });
  const troubled = (destinations.data ?? []).flatMap((destination, index) => {
    const found = health[index]?.data;
    if (!found) return [];
    if (!found.enabled) return [{ destination, why: "is disabled: nothing is sent to it" }];
    if (found.state === "alerting") {
      const ratio = found.success_ratio === null ? "" : ` (${Math.round(found.success_ratio * 100)}% succeed)`;
      return [{ destination, why: `is failing${ratio}` }];
    }
    if (found.queue.retrying > 0) return [{ destination, why: `has ${counted(found.queue.retrying, "event")} waiting to retry` }];
    return [];
  });
  const rejected = (stats.data ?? []).reduce((sum, row) => sum + row.rejected, 0);
  const lag = backlog.data?.lag_seconds ?? 0;
  const lines: { key: string; text: string; link?: string }[] = [];
  if (lag > LAG_WARNING_SECONDS) {
    lines.push({ key: "lag", text: `Processing is ${Math.round(lag)} s behind: profiles and audiences lag by as much.` });
  }
  if (failures.data?.length) {
    lines.push({ key: "failures", text: `${counted(failures.data.length, "event")} failed processing and can be replayed.` });
  }
  if (rejected > 0) {
    lines.push({ key: "rejected", text: `${counted(rejected, "message")} rejected in the last 24 hours: see why.`, link: `${base}/sources` });
  }
  for (const { destination, why } of troubled) {
    lines.push({
      key: `destination-${destination.id}`,
      text: `${destination.name} ${why}.`,
      link: `${base}/destinations/${destination.id}`,
    });
  }
  const errors = [failures.error, backlog.error, stats.error, destinations.error].filter(Boolean);
  return (
    <section aria-labelledby="attention-title" className="card">
      <h2 id="attention-title">Needs attention</h2>
      {errors.map((error, index) => (
        <ErrorNote key={index} error={error} />
      ))}
      {lines.length === 0 ? (
        <p className="muted">
          Nothing: processing is {backlog.data ? `${Math.round(lag)} s behind` : "being checked"}, no event failed, and
          every destination is delivering.
        </p>
      ) : (
        <ul className="plain-list">
          {lines.map((line) => (
            <li key={line.key}>{line.link ? <Link to={line.link}>{line.text}</Link> : line.text}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
