// Events given up on, with their last error, request and response; replayed from here.
import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../../api/client";
import { useCan, useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading } from "../../components/Notes";
import { Exchange, Json } from "./Exchange";
import { ReplayProgress, useReplay } from "./Replay";

const REASONS = { failed: "refused for good", expired: "still failing when its retry window ended" } as const;

/** "Order Completed" for a track, "identify" for the others: what a person recognises. */
function nameOf(payload: unknown): string {
  const event = (payload ?? {}) as { event?: unknown; type?: unknown };
  return String(event.event ?? event.type ?? "event");
}

export function DeadLetters({ destinationId }: { destinationId: number }) {
  const workspace = useWorkspace();
  const canWrite = useCan("destinations:write");
  const replay = useReplay(destinationId);
  const letters = useQuery({
    queryKey: ["dead-letters", workspace, destinationId],
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/destinations/{destination_id}/dead-letters", {
          params: { path: { workspace, destination_id: destinationId }, query: { limit: 100 } },
        }),
      ),
    refetchInterval: 5000,
  });
  const replayAll = () => {
    if (window.confirm("Queue every dead letter for this destination again? What fails again returns here.")) {
      replay.mutate({ dead_letters: true });
    }
  };
  return (
    <section aria-label="Dead letters">
      {canWrite && letters.data && letters.data.length > 0 && (
        <div className="toolbar">
          <button type="button" className="primary" onClick={replayAll} disabled={replay.isPending}>
            Replay all dead letters
          </button>
        </div>
      )}
      <ReplayProgress destinationId={destinationId} replay={replay} />
      {letters.isPending ? (
        <Loading what="dead letters" />
      ) : letters.error ? (
        <ErrorNote error={letters.error} retry={() => letters.refetch()} />
      ) : letters.data.length === 0 ? (
        <Empty title="No dead letters">
          <p>
            Nothing was given up on. An event this destination refuses for good, or that still fails when its retry
            window ends, is kept here to be replayed once the cause is fixed.
          </p>
        </Empty>
      ) : (
        <ul className="cards" aria-label="Dead letters, newest first">
          {letters.data.map((letter) => (
            <li key={letter.id} className="card">
              <p>
                <strong>{nameOf(letter.payload)}</strong> <span className="muted">{REASONS[letter.reason]}</span>
              </p>
              <p>{letter.error}</p>
              <p className="small muted">messageId {letter.message_id}</p>
              <p className="small muted">
                Received {new Date(letter.received_at).toLocaleString()} · gave up{" "}
                {new Date(letter.failed_at).toLocaleString()} after {letter.attempts} attempt
                {letter.attempts === 1 ? "" : "s"}
              </p>
              <details>
                <summary>Request and response</summary>
                <Exchange exchange={letter.exchange} />
              </details>
              <details>
                <summary>The event</summary>
                <Json data={letter.payload} />
              </details>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
