// Events given up on, with their last error, request and response, newest first a page at a
// time; replayed from here, all of them or the ones chosen.
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useWorkspace } from "../../app/session";
import { LoadMore } from "../../components/LoadMore";
import { Empty, ErrorNote, Loading } from "../../components/Notes";
import { Exchange, Json } from "./Exchange";
import { ReplayProgress, useReplay } from "./Replay";

type Letter = components["schemas"]["DeadLetterView"];

const PAGE = 50;
/** The most dead letters one replay may name (the API's limit). */
const MOST = 1000;
const REASONS = { failed: "refused for good", expired: "still failing when its retry window ended" } as const;

/** "Order Completed" for a track, "identify" for the others: what a person recognises. */
function nameOf(payload: unknown): string {
  const event = (payload ?? {}) as { event?: unknown; type?: unknown };
  return String(event.event ?? event.type ?? "event");
}

function useLetters(destinationId: number) {
  const workspace = useWorkspace();
  return useInfiniteQuery({
    queryKey: ["dead-letters", workspace, destinationId],
    queryFn: ({ pageParam }) =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/destinations/{destination_id}/dead-letters", {
          params: { path: { workspace, destination_id: destinationId }, query: { limit: PAGE, before: pageParam } },
        }),
      ),
    initialPageParam: undefined as number | undefined,
    // ids fall newest first: the next page is older than the last one shown
    getNextPageParam: (last: Letter[]) => (last.length < PAGE ? undefined : last[last.length - 1]?.id),
    refetchInterval: 5000,
  });
}

export function DeadLetters({ destinationId }: { destinationId: number }) {
  const canWrite = useCan("destinations:write");
  const replay = useReplay(destinationId);
  const letters = useLetters(destinationId);
  const [chosen, setChosen] = useState<Set<number>>(new Set());
  const shown = letters.data?.pages.flat() ?? [];
  const choose = (id: number, on: boolean) =>
    setChosen((old) => {
      const next = new Set(old);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const replayAll = () => {
    if (window.confirm("Queue every dead letter for this destination again? What fails again returns here.")) {
      replay.mutate({ dead_letters: true });
    }
  };
  const replayChosen = () =>
    replay.mutate({ dead_letters: true, ids: [...chosen] }, { onSuccess: () => setChosen(new Set()) });
  const allChosen = shown.length > 0 && shown.every((letter) => chosen.has(letter.id));
  return (
    <section aria-label="Dead letters">
      {canWrite && shown.length > 0 && (
        <div className="toolbar">
          <label className="inline">
            <input
              type="checkbox"
              checked={allChosen}
              onChange={(e) => setChosen(new Set(e.target.checked ? shown.map((letter) => letter.id) : []))}
            />
            Select all {shown.length} shown
          </label>
          <button
            type="button"
            className="primary"
            onClick={replayChosen}
            disabled={replay.isPending || chosen.size === 0 || chosen.size > MOST}
          >
            Replay selected ({chosen.size})
          </button>
          <button type="button" onClick={replayAll} disabled={replay.isPending}>
            Replay all dead letters
          </button>
          {chosen.size > MOST && <span className="muted">Choose at most {MOST.toLocaleString()} at a time.</span>}
        </div>
      )}
      <ReplayProgress destinationId={destinationId} replay={replay} />
      {letters.isPending ? (
        <Loading what="dead letters" />
      ) : letters.error ? (
        <ErrorNote error={letters.error} retry={() => letters.refetch()} />
      ) : shown.length === 0 ? (
        <Empty title="No dead letters">
          <p>
            Nothing was given up on. An event this destination refuses for good, or that still fails when its retry
            window ends, is kept here to be replayed once the cause is fixed.
          </p>
        </Empty>
      ) : (
        <>
          <ul className="cards" aria-label="Dead letters, newest first">
            {shown.map((letter) => (
              <DeadLetter
                key={letter.id}
                letter={letter}
                chosen={canWrite ? chosen.has(letter.id) : null}
                onChoose={(on) => choose(letter.id, on)}
              />
            ))}
          </ul>
          <LoadMore pages={letters} loading="Loading older dead letters…" />
        </>
      )}
    </section>
  );
}

interface LetterProps {
  letter: Letter;
  /** Whether it is chosen for replay; null: the role may not replay. */
  chosen: boolean | null;
  onChoose: (on: boolean) => void;
}

function DeadLetter({ letter, chosen, onChoose }: LetterProps) {
  const name = nameOf(letter.payload);
  return (
    <li className="card">
      <p>
        {chosen !== null && (
          <input
            type="checkbox"
            aria-label={`Select ${name} (messageId ${letter.message_id})`}
            checked={chosen}
            onChange={(e) => onChoose(e.target.checked)}
          />
        )}{" "}
        <strong>{name}</strong> <span className="muted">{REASONS[letter.reason]}</span>
      </p>
      <p>{letter.error}</p>
      <p className="small muted">messageId {letter.message_id}</p>
      <p className="small muted">
        Received {new Date(letter.received_at).toLocaleString()} · gave up {new Date(letter.failed_at).toLocaleString()}{" "}
        after {letter.attempts} attempt{letter.attempts === 1 ? "" : "s"}
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
  );
}
