// The latest failed sends, each with its request and response.
import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../../api/client";
import { useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading } from "../../components/Notes";
import { Exchange } from "./Exchange";

const OUTCOMES: Record<string, string> = {
  retry: "will be retried",
  failed: "refused for good",
};

export function Errors({ destinationId }: { destinationId: number }) {
  const workspace = useWorkspace();
  const errors = useQuery({
    queryKey: ["destination-errors", workspace, destinationId],
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/destinations/{destination_id}/errors", {
          params: { path: { workspace, destination_id: destinationId }, query: { limit: 20 } },
        }),
      ),
    refetchInterval: 5000,
  });
  if (errors.isPending) return <Loading what="the latest errors" />;
  if (errors.error) return <ErrorNote error={errors.error} retry={() => errors.refetch()} />;
  if (errors.data.length === 0) {
    return (
      <Empty title="No error">
        <p>Every send to this destination so far was accepted. A failed send shows here with its request and response.</p>
      </Empty>
    );
  }
  return (
    <ul className="cards" aria-label="Latest errors">
      {errors.data.map((error) => (
        <li key={error.id} className="card">
          <p>
            <strong>{error.error}</strong>{" "}
            <span className="muted">
              {new Date(error.at).toLocaleString()} · {error.events} event{error.events === 1 ? "" : "s"} ·{" "}
              {OUTCOMES[error.outcome] ?? error.outcome}
            </span>
          </p>
          <details>
            <summary>Request and response</summary>
            <Exchange exchange={error.exchange} />
          </details>
        </li>
      ))}
    </ul>
  );
}
