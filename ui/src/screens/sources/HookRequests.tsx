// The webhook debugger: each request the source received, newest first, with what became of
// it (stored, no message, failed, refused, answered a verification) and the messages it made.
// The recent ones are read once; each new one arrives on the server-sent stream as it is
// recorded. Credentials and signatures arrive redacted.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useWorkspace } from "../../app/session";
import { JsonTree } from "../../components/JsonTree";
import { Empty, ErrorNote, Loading } from "../../components/Notes";
import { counted } from "../../components/words";

type Received = components["schemas"]["HookRequestView"];

/** How many requests the list keeps (the server keeps the last 200 of each source). */
const KEPT = 200;

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

/** ``known`` with ``request`` added at the top (once), newest first, at most KEPT long. */
export function added(known: Received[] | undefined, request: Received): Received[] {
  const rest = (known ?? []).filter((r) => r.id !== request.id);
  return [request, ...rest].sort((a, b) => b.id - a.id).slice(0, KEPT);
}

export function HookRequests({ sourceId }: { sourceId: number }) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const [chosenId, setChosenId] = useState<number | null>(null);
  const [state, setState] = useState<"connecting" | "open" | "lost">("connecting");
  const key = ["hook-requests", workspace, sourceId];
  const requests = useQuery({
    queryKey: key,
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/sources/{source_id}/hook/requests", {
          params: { path: { workspace, source_id: sourceId }, query: { limit: 100 } },
        }),
      ),
    staleTime: Infinity,
  });
  const loaded = requests.isSuccess;
  useEffect(() => {
    if (!loaded) return;
    const known = queries.getQueryData<Received[]>(key) ?? [];
    const after = known.length > 0 ? known[0]!.id : 0;
    const path = `/api/v1/workspaces/${encodeURIComponent(workspace)}/sources/${sourceId}/hook/requests/live`;
    const feed = new EventSource(`${path}?after=${after}`, { withCredentials: true });
    feed.onopen = () => setState("open");
    feed.onerror = () => setState(feed.readyState === EventSource.CLOSED ? "lost" : "connecting");
    feed.addEventListener("request", (message: MessageEvent<string>) => {
      const request = JSON.parse(message.data) as Received;
      queries.setQueryData<Received[]>(key, (previous) => added(previous, request));
    });
    return () => feed.close();
    // opened once the first page is in (the query key is made of these values)
  }, [loaded, workspace, sourceId, queries]);
  if (requests.isPending) return <Loading what="the requests" />;
  if (requests.error) return <ErrorNote error={requests.error} retry={() => requests.refetch()} />;
  if (requests.data.length === 0)
    return (
      <Empty title="No request yet">
        <p>
          Paste the webhook URL (under “Set up”) into the tool and send a test from it: each request shows here as it
          arrives, with the events it made or why it made none.
        </p>
      </Empty>
    );
  const chosen = requests.data.find((r) => r.id === chosenId) ?? requests.data[0]!;
  return (
    <section aria-label="Requests" className="live">
      <p className={`dot ${state}`} role="status">
        {state === "open" ? "Listening: new requests appear here" : state === "connecting" ? "Connecting…" : "Disconnected: reload the page"}
      </p>
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
