// The live debugger: what happens to each message the source sends, from the server-sent feed
// (GET .../live): stored, dropped as a duplicate, rejected with its reason, blocked by a
// tracking plan, or flagged (let through by the plan with violations, changed). Items arrive
// into a buffer and the list is redrawn four times a second at most, so that a thousand
// events a second cost four renders, not a thousand; the newest 500 are kept.
import { useEffect, useMemo, useRef, useState } from "react";
import { JsonTree } from "../../components/JsonTree";
import type { components } from "../../api/schema";
import { useWorkspace } from "../../app/session";
import { Empty } from "../../components/Notes";
import { counted } from "../../components/words";

type Stored = components["schemas"]["EventView"];

/** A frame `event: fate` of the feed (the API's FateView; streams have no OpenAPI schema). */
interface Fate {
  fate: "rejected" | "duplicate" | "blocked" | "flagged";
  id: number;
  messageId: string | null;
  type: string | null;
  name: string | null;
  receivedAt: string;
  reason: string | null;
  violations?: unknown;
  payload: unknown;
}

interface Item {
  key: string;
  fate: "stored" | Fate["fate"];
  messageId: string | null;
  receivedAt: string;
  reason: string | null;
  payload: unknown;
  violations?: unknown;
}

function storedItem(event: Stored): Item {
  return {
    key: `stored:${event.offset}`,
    fate: "stored",
    messageId: event.messageId,
    receivedAt: event.receivedAt,
    reason: null,
    payload: event.payload,
  };
}

function fateItem(fate: Fate): Item {
  return {
    key: `${fate.fate}:${fate.id}`,
    fate: fate.fate,
    messageId: fate.messageId,
    receivedAt: fate.receivedAt,
    reason: fate.reason,
    payload: fate.payload,
    violations: fate.violations,
  };
}

const FATE_LABELS: Record<Item["fate"], string> = {
  stored: "stored",
  duplicate: "duplicate",
  rejected: "rejected",
  blocked: "blocked",
  flagged: "flagged",
};

const KEEP = 500;
const FLUSH_MS = 250;

export function Live({ sourceId }: { sourceId: number }) {
  const workspace = useWorkspace();
  const [events, setEvents] = useState<Item[]>([]);
  const [paused, setPaused] = useState(false);
  // messages (not items: a flagged or blocked message also comes as stored) sent while paused
  const missedIds = useRef(new Set<string>());
  const [missed, setMissed] = useState(0);
  const [state, setState] = useState<"connecting" | "open" | "lost">("connecting");
  const [search, setSearch] = useState("");
  const [selected, setSelected] = useState<string | null>(null);
  const [raw, setRaw] = useState(false);
  const buffer = useRef<Item[]>([]);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  useEffect(() => {
    const url = `/api/v1/workspaces/${encodeURIComponent(workspace)}/sources/${sourceId}/live`;
    const feed = new EventSource(url, { withCredentials: true });
    feed.onopen = () => setState("open");
    feed.onerror = () => setState(feed.readyState === EventSource.CLOSED ? "lost" : "connecting");
    const arrive = (item: Item) => {
      if (pausedRef.current) {
        missedIds.current.add(item.messageId ?? item.key);
        setMissed(missedIds.current.size);
      }
      else buffer.current.push(item);
    };
    feed.addEventListener("event", (message: MessageEvent<string>) =>
      arrive(storedItem(JSON.parse(message.data) as Stored)),
    );
    feed.addEventListener("fate", (message: MessageEvent<string>) =>
      arrive(fateItem(JSON.parse(message.data) as Fate)),
    );
    const flush = setInterval(() => {
      if (buffer.current.length === 0) return;
      const arrived = buffer.current.reverse();
      buffer.current = [];
      setEvents((shown) => [...arrived, ...shown].slice(0, KEEP));
    }, FLUSH_MS);
    return () => {
      clearInterval(flush);
      feed.close();
    };
  }, [workspace, sourceId]);

  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    if (!needle) return events;
    return events.filter((event) => JSON.stringify(event).toLowerCase().includes(needle));
  }, [events, search]);
  const chosen = events.find((event) => event.key === selected) ?? null;

  return (
    <section aria-label="Live events" className="live">
      <div className="toolbar">
        <span className={`dot ${state}`} role="status">
          {state === "open" ? "Listening" : state === "connecting" ? "Connecting…" : "Disconnected: reload the page"}
        </span>
        <button
          type="button"
          onClick={() => {
            setPaused(!paused);
            missedIds.current.clear();
            setMissed(0);
          }}
        >
          {paused ? "Resume" : "Pause"}
        </button>
        {paused && missed > 0 && <span className="muted">{counted(missed, "event")} arrived while paused</span>}
        <label className="inline">
          Search
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="event, user, property…" />
        </label>
      </div>
      {events.length === 0 ? (
        <Empty title="Waiting for events">
          <p>Send an event with the snippet under “Set up”: it appears here within a second of being stored.</p>
        </Empty>
      ) : (
        <div className="split">
          <ul className="event-list" aria-label="Events, newest first">
            {shown.map((event) => (
              <li key={event.key}>
                <button type="button" aria-pressed={event.key === selected} onClick={() => setSelected(event.key)}>
                  <span className={`fate ${event.fate}`}>{FATE_LABELS[event.fate]}</span>
                  <strong>{describe(event.payload)}</strong>
                  <span className="muted">{new Date(event.receivedAt).toLocaleTimeString()}</span>
                </button>
              </li>
            ))}
          </ul>
          <div className="event-detail" aria-label="Selected event">
            {chosen ? (
              <>
                <p>
                  <span className={`fate ${chosen.fate}`}>{FATE_LABELS[chosen.fate]}</span>{" "}
                  {EXPLAINED[chosen.fate]}
                  {chosen.reason && (
                    <>
                      {" "}
                      Reason: <strong>{chosen.reason}</strong>
                    </>
                  )}
                </p>
                {chosen.violations !== undefined && (
                  <details>
                    <summary>Violations of the tracking plan</summary>
                    <pre tabIndex={0}>{JSON.stringify(chosen.violations, null, 2)}</pre>
                  </details>
                )}
                <div className="segmented" role="group" aria-label="View">
                  <button type="button" aria-pressed={!raw} onClick={() => setRaw(false)}>
                    Pretty
                  </button>
                  <button type="button" aria-pressed={raw} onClick={() => setRaw(true)}>
                    Raw
                  </button>
                </div>
                {raw ? (
                  <pre tabIndex={0}>{JSON.stringify(chosen.payload, null, 2)}</pre>
                ) : (
                  <JsonTree data={chosen.payload} />
                )}
              </>
            ) : (
              <p className="muted">Choose an event to see it in its normalised form, with what happened to it.</p>
            )}
          </div>
        </div>
      )}
    </section>
  );
}

const EXPLAINED: Record<Item["fate"], string> = {
  stored: "Stored in the event log; profiles, audiences and destinations receive it.",
  duplicate: "Dropped: an event with this messageId arrived within the dedup window (an SDK retry).",
  rejected: "Refused: it was not a valid message, so it was not stored.",
  blocked: "Held in quarantine by the source's tracking plan: release, replay or forward it under Tracking plans.",
  flagged:
    "Let through by the source's tracking plan despite violations, changed as its settings say (the violations under context.violations, or the offending fields omitted): shown here as profiles, audiences and destinations receive it.",
};

function describe(payload: unknown): string {
  const message = (payload ?? {}) as { type?: string; event?: string; userId?: string; anonymousId?: string };
  const who = message.userId ?? message.anonymousId ?? "";
  const what = message.type === "track" ? (message.event ?? "track") : (message.type ?? "message");
  return who ? `${what} · ${who}` : what;
}
