// The delivery pipeline over a chosen time range: how many events reached each stage, the
// queue now, a chart of the range, and (for writers) a replay of the range.
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { useSearchParams } from "react-router-dom";
import { api, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useWorkspace } from "../../app/session";
import { perBucket, STEP } from "../../components/buckets";
import { Chart } from "../../components/Chart";
import { ErrorNote, Loading } from "../../components/Notes";
import { type Destination, useHealth } from "./queries";
import { ReplayProgress, useReplay } from "./Replay";

type Stats = components["schemas"]["StatsView"];

const RANGES = [
  { id: "hour", label: "Last hour", hours: 1, interval: "minute" },
  { id: "day", label: "Last day", hours: 24, interval: "hour" },
  { id: "week", label: "Last 7 days", hours: 24 * 7, interval: "hour" },
] as const;

type Range = (typeof RANGES)[number];

function useRange(): [Range, (id: string) => void] {
  const [search, setSearch] = useSearchParams();
  const range = RANGES.find((r) => r.id === search.get("range")) ?? RANGES[1];
  const choose = (id: string) =>
    setSearch(
      (previous) => {
        const next = new URLSearchParams(previous);
        next.set("range", id);
        return next;
      },
      { replace: true },
    );
  return [range, choose];
}

export function Pipeline({ destination }: { destination: Destination }) {
  const workspace = useWorkspace();
  const [range, choose] = useRange();
  const stats = useQuery({
    queryKey: ["destination-stats", workspace, destination.id, range.id],
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/destinations/{destination_id}/stats", {
          params: {
            path: { workspace, destination_id: destination.id },
            query: { since: new Date(Date.now() - range.hours * 3_600_000).toISOString(), interval: range.interval },
          },
        }),
      ),
    refetchInterval: 3000,
  });
  return (
    <section aria-label="Delivery">
      <div className="segmented" role="group" aria-label="Time range">
        {RANGES.map((r) => (
          <button key={r.id} type="button" aria-pressed={r.id === range.id} onClick={() => choose(r.id)}>
            {r.label}
          </button>
        ))}
      </div>
      {!destination.enabled && (
        <p className="note">This destination is disabled: events wait in its queue until it is enabled again.</p>
      )}
      {stats.isPending ? (
        <Loading what="the delivery figures" />
      ) : stats.error ? (
        <ErrorNote error={stats.error} retry={() => stats.refetch()} />
      ) : (
        <>
          <Stages destinationId={destination.id} stats={stats.data} range={range} />
          <History stats={stats.data} range={range} />
          <ReplayRange destinationId={destination.id} stats={stats.data} range={range} />
        </>
      )}
    </section>
  );
}

function Stages({ destinationId, stats, range }: { destinationId: number; stats: Stats; range: Range }) {
  const health = useHealth(destinationId);
  const t = stats.totals;
  const queue = health.data?.queue;
  const stages = [
    { label: "Received", value: t.received, help: "sent by the destination's sources" },
    { label: "Filtered by consent", value: t.skipped_consent, help: "the person did not consent" },
    {
      label: "Filtered by a filter",
      value: t.skipped_filters + t.skipped_integrations,
      help: "the destination's filters, or the event's integrations, left it out",
    },
    { label: "Pending retry", value: queue ? queue.retrying : null, help: "now: a send failed, it will be tried again" },
    { label: "Failed", value: t.dead_lettered, help: "given up on: see the dead letters" },
    { label: "Delivered", value: t.delivered, help: "accepted by the destination" },
  ];
  return (
    <>
      <ol className="pipeline" aria-label={`Delivery pipeline, ${range.label.toLowerCase()}`}>
        {stages.map((stage) => (
          <li key={stage.label} className={stage.label === "Failed" && stage.value ? "tile warn" : "tile"}>
            <span>{stage.label}</span>
            <span className="tile-value">{stage.value ?? "…"}</span>
            <span className="small muted">{stage.help}</span>
          </li>
        ))}
      </ol>
      {queue && (
        <p className="muted">
          In the queue now: {queue.pending} waiting for a first attempt, {queue.retrying} to retry
          {queue.oldest_seconds !== null && queue.oldest_seconds !== undefined
            ? `; the oldest arrived ${Math.round(queue.oldest_seconds)} s ago`
            : ""}
          .
        </p>
      )}
    </>
  );
}

function History({ stats, range }: { stats: Stats; range: Range }) {
  const { times, values } = useMemo(
    () =>
      perBucket(
        stats.series,
        (row) => row.at,
        {
          delivered: (row) => row.delivered,
          retried: (row) => row.retried,
          failed: (row) => row.dead_lettered,
          filtered: (row) => row.skipped_consent + row.skipped_filters + row.skipped_integrations,
        },
        stats.since,
        STEP[range.interval],
      ),
    [stats, range.interval],
  );
  if (times.length === 0) {
    return <p className="muted">Nothing reached this destination in the {range.label.toLowerCase()}.</p>;
  }
  const series = [
    { label: "Delivered", color: "#15803d", values: values.delivered ?? [] },
    { label: "Retried", color: "#92400e", values: values.retried ?? [] },
    { label: "Failed", color: "#b91c1c", values: values.failed ?? [] },
    { label: "Filtered", color: "#4b5563", values: values.filtered ?? [] },
  ];
  return <Chart title={`Events per ${range.interval}`} times={times} series={series} />;
}

function ReplayRange({ destinationId, stats, range }: { destinationId: number; stats: Stats; range: Range }) {
  const canWrite = useCan("destinations:write");
  const replay = useReplay(destinationId);
  if (!canWrite) return null;
  const start = () => {
    const question =
      `Send every event received in the ${range.label.toLowerCase()} to this destination again? ` +
      "Events it already accepted are sent twice; the destination must drop duplicates by messageId.";
    if (window.confirm(question)) replay.mutate({ since: stats.since, until: stats.until });
  };
  return (
    <div className="card">
      <h2>Replay</h2>
      <p className="muted">Send the events of this time range again, for example after fixing the destination's settings.</p>
      <button type="button" onClick={start} disabled={replay.isPending}>
        Replay the {range.label.toLowerCase()}
      </button>
      <ReplayProgress destinationId={destinationId} replay={replay} />
    </div>
  );
}
