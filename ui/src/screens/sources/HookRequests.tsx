// The webhook debugger: each request the source received, newest first, with what became of
// it (stored, no message, failed, refused, answered a verification) and the messages it made.
// Read again every two seconds; credentials and signatures arrive redacted.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useWorkspace } from "../../app/session";
import { JsonTree } from "../../components/JsonTree";
import { Empty, ErrorNote, Loading } from "../../components/Notes";
import { counted } from "../../components/words";

type Received = components["schemas"]["HookRequestView"];

const OUTCOMES: Record<string, { label: string; fate: string }> = {
  stored: { label: "stored", fate: "stored" },
  none: { label: "no message", fate: "duplicate" },
  failed: { label: "failed", fate: "rejected" },
  refused: { label: "refused", fate: "rejected" },
  replied: { label: "verification", fate: "flagged" },
};

function summary(request: Received): string {
  if (request.outcome === "stored") return counted(request.messages.length, "message");
  return request.reason ?? request.errors[0] ?? "";
}

export function HookRequests({ sourceId }: { sourceId: number }) {
  const workspace = useWorkspace();
  const [chosenId, setChosenId] = useState<number | null>(null);
  const requests = useQuery({
    queryKey: ["hook-requests", workspace, sourceId],
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/sources/{source_id}/hook/requests", {
          params: { path: { workspace, source_id: sourceId }, query: { limit: 100 } },
        }),
      ),
    refetchInterval: 2000,
  });
  if (requests.isPending) return <Loading what="the requests" />;
  if (requests.error) return <ErrorNote error={requests.error} retry={() => requests.refetch()} />;
  if (requests.data.length === 0)
    return (
      <Empty title="No request yet">
        <p>
          Paste the webhook URL (under “Set up”) into the tool and send a test from it: each request shows here within
          two seconds, with the events it made or why it made none.
        </p>
      </Empty>
    );
  const chosen = requests.data.find((r) => r.id === chosenId) ?? requests.data[0]!;
  return (
    <section aria-label="Requests" className="live">
      <div className="split">
        <ul className="event-list" aria-label="Requests, newest first">
          {requests.data.map((request) => {
            const outcome = OUTCOMES[request.outcome] ?? { label: request.outcome, fate: "duplicate" };
            return (
              <li key={request.id}>
                <button type="button" aria-pressed={request.id === chosen.id} onClick={() => setChosenId(request.id)}>
                  <span className={`fate ${outcome.fate}`}>{outcome.label}</span>
                  <span>{summary(request)}</span>
                  <span className="muted">{new Date(request.received_at).toLocaleTimeString()}</span>
                </button>
              </li>
            );
          })}
        </ul>
        <div className="event-detail" aria-label="Selected request">
          <p>
            <strong>
              {chosen.method} · answered {chosen.status}
            </strong>{" "}
            <span className="muted">{new Date(chosen.received_at).toLocaleString()}</span>
          </p>
          {chosen.reason && <p>{chosen.reason}</p>}
          {chosen.errors.length > 0 && (
            <ul aria-label="Errors">
              {chosen.errors.map((error, index) => (
                <li key={index}>{error}</li>
              ))}
            </ul>
          )}
          {chosen.messages.length > 0 && (
            <>
              <h3>{counted(chosen.messages.length, "message")} made</h3>
              <JsonTree data={chosen.messages} />
            </>
          )}
          <h3>Headers</h3>
          <JsonTree data={chosen.headers} />
          <h3>Body</h3>
          {chosen.body === null ? (
            <p className="muted">Not kept: the request was refused.</p>
          ) : (
            <pre className="body">{chosen.body}</pre>
          )}
        </div>
      </div>
    </section>
  );
}
