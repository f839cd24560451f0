// What the source refused, with the reason and the payload as it came.
import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../../api/client";
import { useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading } from "../../components/Notes";

export function Rejections({ sourceId }: { sourceId: number }) {
  const workspace = useWorkspace();
  const rejections = useQuery({
    queryKey: ["rejections", workspace, sourceId],
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/rejections", {
          params: { path: { workspace }, query: { source: sourceId, limit: 100 } },
        }),
      ),
  });
  if (rejections.isPending) return <Loading what="rejections" />;
  if (rejections.error) return <ErrorNote error={rejections.error} retry={() => rejections.refetch()} />;
  if (rejections.data.length === 0) {
    return (
      <Empty title="Nothing rejected">
        <p>Every event this source sent was valid. An event that is not (a missing user, a bad timestamp) shows here with the reason.</p>
      </Empty>
    );
  }
  return (
    <ul className="cards" aria-label="Rejected events">
      {rejections.data.map((rejection) => (
        <li key={rejection.id} className="card">
          <p>
            <strong>{rejection.reason}</strong>{" "}
            <span className="muted">{new Date(rejection.receivedAt).toLocaleString()}</span>
          </p>
          <details>
            <summary>The event as it came</summary>
            <pre tabIndex={0}>{JSON.stringify(rejection.payload, null, 2)}</pre>
          </details>
        </li>
      ))}
    </ul>
  );
}
