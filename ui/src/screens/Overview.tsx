// What came in, what was refused, and what needs attention, over the last day.
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { Link } from "react-router-dom";
import { api, inWorkspace, ok } from "../api/client";
import { useCan, useWorkspace } from "../app/session";
import { Chart } from "../components/Chart";
import { Empty, ErrorNote, Loading, PageHeader } from "../components/Notes";

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
  const series = useMemo(() => {
    const buckets = new Map<string, { accepted: number; duplicates: number; rejected: number }>();
    for (const row of stats.data ?? []) {
      const bucket = buckets.get(row.bucket) ?? { accepted: 0, duplicates: 0, rejected: 0 };
      bucket.accepted += row.accepted;
      bucket.duplicates += row.duplicates;
      bucket.rejected += row.rejected;
      buckets.set(row.bucket, bucket);
    }
    const keys = [...buckets.keys()].sort();
    const of = (k: "accepted" | "duplicates" | "rejected") => keys.map((key) => buckets.get(key)![k]);
    return {
      times: keys.map((key) => Date.parse(key) / 1000),
      accepted: of("accepted"),
      duplicates: of("duplicates"),
      rejected: of("rejected"),
    };
  }, [stats.data]);
  const total = (values: number[]) => values.reduce((a, b) => a + b, 0);
  return (
    <>
      <PageHeader title="Overview" />
      {stats.isPending ? (
        <Loading what="the last day's events" />
      ) : stats.error ? (
        <ErrorNote error={stats.error} retry={() => stats.refetch()} />
      ) : series.times.length === 0 ? (
        <NoEvents workspace={workspace} />
      ) : (
        <section aria-label="Events in the last 24 hours">
          <div className="tiles">
            <Tile label="Events stored (24 h)" value={total(series.accepted)} />
            <Tile label="Duplicates dropped" value={total(series.duplicates)} />
            <Tile label="Rejected" value={total(series.rejected)} tone={total(series.rejected) ? "warn" : undefined} />
          </div>
          <Chart
            title="Events per hour"
            times={series.times}
            series={[
              { label: "Stored", values: series.accepted, color: "#2563eb" },
              { label: "Duplicates", values: series.duplicates, color: "#6b7280" },
              { label: "Rejected", values: series.rejected, color: "#dc2626" },
            ]}
          />
        </section>
      )}
      <Attention />
    </>
  );
}

function Tile({ label, value, tone }: { label: string; value: number; tone?: "warn" }) {
  return (
    <div className={tone ? `tile ${tone}` : "tile"}>
      <div className="tile-value">{value.toLocaleString()}</div>
      <div className="tile-label">{label}</div>
    </div>
  );
}

function NoEvents({ workspace }: { workspace: string }) {
  const canAdd = useCan("sources:write");
  return (
    <Empty title="No events in the last day">
      <p>
        Events appear here as soon as a website, app or server sends them.{" "}
        {canAdd ? (
          <>
            <Link to={`/w/${encodeURIComponent(workspace)}/sources`}>Add a source</Link> and paste its set-up snippet
            into your site or app.
          </>
        ) : (
          "Ask a developer of this workspace to connect a source."
        )}
      </p>
    </Empty>
  );
}

/** Processing failures and destinations in trouble: what someone should look at. */
function Attention() {
  const workspace = useWorkspace();
  const failures = useQuery({
    queryKey: ["failures", workspace, "open"],
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/failures", {
          params: { path: { workspace }, query: { status: "open" } },
        }),
      ),
  });
  const rejections = useQuery({
    queryKey: ["rejections", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/rejections", inWorkspace(workspace))),
  });
  return (
    <section aria-labelledby="attention-title" className="card">
      <h2 id="attention-title">Needs attention</h2>
      {failures.error && <ErrorNote error={failures.error} />}
      {rejections.error && <ErrorNote error={rejections.error} />}
      <ul className="plain-list">
        <li>
          {failures.data === undefined
            ? "Checking processing failures…"
            : failures.data.length === 0
              ? "No event failed processing."
              : `${failures.data.length} event(s) failed processing and wait for a replay.`}
        </li>
        <li>
          {rejections.data === undefined
            ? "Checking rejections…"
            : rejections.data.length === 0
              ? "No event was rejected."
              : `${rejections.data.length} recent event(s) were rejected; open a source to see why.`}
        </li>
      </ul>
    </section>
  );
}
