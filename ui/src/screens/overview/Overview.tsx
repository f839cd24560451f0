// What came in and went out over the last day, and what needs attention now.
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { Link } from "react-router-dom";
import { api, ok } from "../../api/client";
import { useCan, useWorkspace } from "../../app/session";
import { Chart } from "../../components/Chart";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { Attention } from "./Attention";
import { Outgoing } from "./Outgoing";
import { Tile } from "../../components/Tile";
import { perBucket, total } from "../../components/buckets";

const DAY_MS = 24 * 3600 * 1000;

export default function Overview() {
  const workspace = useWorkspace();
  const since = useMemo(() => new Date(Date.now() - DAY_MS).toISOString(), []);
  const stats = useQuery({
    queryKey: ["stats", workspace, since],
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/stats", {
          params: { path: { workspace }, query: { since, interval: "hour" } },
        }),
      ),
    refetchInterval: 15_000,
  });
  const incoming = useMemo(
    () =>
      perBucket(stats.data ?? [], (row) => row.bucket, {
        accepted: (row) => row.accepted,
        duplicates: (row) => row.duplicates,
        rejected: (row) => row.rejected,
      }, since),
    [stats.data, since],
  );
  return (
    <>
      <PageHeader title="Overview" />
      <Attention since={since} />
      <h2>Events in (last 24 hours)</h2>
      {stats.isPending ? (
        <Loading what="the last day's events" />
      ) : stats.error ? (
        <ErrorNote error={stats.error} retry={() => stats.refetch()} />
      ) : incoming.times.length === 0 ? (
        <NoEvents workspace={workspace} />
      ) : (
        <section aria-label="Events in, last 24 hours">
          <div className="tiles">
            <Tile label="Stored" value={total(incoming.values.accepted)} />
            <Tile label="Duplicates dropped" value={total(incoming.values.duplicates)} />
            <Tile label="Rejected" value={total(incoming.values.rejected)} warn={total(incoming.values.rejected) > 0} />
          </div>
          <Chart
            title="Events in per hour"
            times={incoming.times}
            series={[
              { label: "Stored", values: incoming.values.accepted ?? [], color: "#2563eb" },
              { label: "Duplicates", values: incoming.values.duplicates ?? [], color: "#6b7280" },
              { label: "Rejected", values: incoming.values.rejected ?? [], color: "#dc2626" },
            ]}
          />
        </section>
      )}
      <Outgoing since={since} />
    </>
  );
}

function NoEvents({ workspace }: { workspace: string }) {
  const canRead = useCan("sources:read");
  const sources = useQuery({
    queryKey: ["sources", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/sources", { params: { path: { workspace } } })),
    enabled: canRead,
  });
  return (
    <Empty title="No events in the last day">
      <p>Events appear here as soon as a website, app or server sends them.</p>
      {canRead && sources.isPending ? null : sources.error ? (
        <ErrorNote error={sources.error} retry={() => sources.refetch()} />
      ) : (
        <p>
          <NextStep workspace={workspace} sources={sources.data ?? []} />
        </p>
      )}
    </Empty>
  );
}

/** What to do next: send an event with the snippet of the source there is, or add one first. */
function NextStep({ workspace, sources }: { workspace: string; sources: { id: number; name: string }[] }) {
  const canAdd = useCan("sources:write");
  const at = `/w/${encodeURIComponent(workspace)}/sources`;
  const only = sources.length === 1 ? sources[0] : undefined;
  if (only) {
    return (
      <>
        <Link to={`${at}/${only.id}?tab=setup`}>Send an event</Link> with the set-up snippet of the source “{only.name}”: paste it
        into your site or app.
      </>
    );
  }
  if (sources.length > 1) {
    return (
      <>
        <Link to={at}>Open a source</Link> and paste its set-up snippet into your site or app.
      </>
    );
  }
  return canAdd ? (
    <>
      <Link to={at}>Add a source</Link> and paste its set-up snippet into your site or app.
    </>
  ) : (
    "Ask a developer of this workspace to connect a source."
  );
}
