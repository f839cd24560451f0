// Events out: deliveries to every destination of the workspace, per hour.
import { useQueries, useQuery } from "@tanstack/react-query";
import { api, inWorkspace, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useWorkspace } from "../../app/session";
import { Chart } from "../../components/Chart";
import { ErrorNote, Loading } from "../../components/Notes";
import { Tile } from "../../components/Tile";
import { perBucket, total } from "../../components/buckets";

type Bucket = components["schemas"]["StatsBucketView"];

export function useDestinations() {
  const workspace = useWorkspace();
  return useQuery({
    queryKey: ["destinations", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/destinations", inWorkspace(workspace))),
  });
}

export function Outgoing({ since }: { since: string }) {
  const workspace = useWorkspace();
  const destinations = useDestinations();
  const stats = useQueries({
    queries: (destinations.data ?? []).map((destination) => ({
      queryKey: ["destination-stats", workspace, destination.id, since],
      queryFn: () =>
        ok(
          api.GET("/api/v1/workspaces/{workspace}/destinations/{destination_id}/stats", {
            params: { path: { workspace, destination_id: destination.id }, query: { since, interval: "hour" } },
          }),
        ),
      refetchInterval: 15_000,
    })),
  });
  const buckets: Bucket[] = stats.flatMap((found) => found.data?.series ?? []);
  const outgoing = perBucket(buckets, (bucket) => bucket.at, {
    delivered: (bucket) => bucket.delivered,
    failed: (bucket) => bucket.failed,
    dead: (bucket) => bucket.dead_lettered,
  }, since);
  if (destinations.isPending) return <Loading what="destinations" />;
  if (destinations.error) return <ErrorNote error={destinations.error} retry={() => destinations.refetch()} />;
  if (destinations.data.length === 0) return null;
  const failed = stats.find((found) => found.error);
  return (
    <section aria-labelledby="events-out-title">
      <h2 id="events-out-title">Events out (last 24 hours)</h2>
      {failed?.error && <ErrorNote error={failed.error} />}
      <div className="tiles">
        <Tile label="Delivered" value={total(outgoing.values.delivered)} />
        <Tile label="Failed attempts" value={total(outgoing.values.failed)} warn={total(outgoing.values.failed) > 0} />
        <Tile label="Dead letters" value={total(outgoing.values.dead)} warn={total(outgoing.values.dead) > 0} />
      </div>
      {outgoing.times.length > 0 && (
        <Chart
          title="Events out per hour"
          times={outgoing.times}
          series={[
            { label: "Delivered", values: outgoing.values.delivered ?? [], color: "#15803d" },
            { label: "Failed", values: outgoing.values.failed ?? [], color: "#d97706" },
            { label: "Dead letters", values: outgoing.values.dead ?? [], color: "#dc2626" },
          ]}
        />
      )}
    </section>
  );
}
