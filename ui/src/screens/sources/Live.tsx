// The live debugger: the source's events as they are stored, from the server-sent feed.
// Events arrive into a buffer and the list is redrawn four times a second at most, so that a
// thousand events a second cost four renders, not a thousand; the newest 500 are kept.
import { useEffect, useMemo, useRef, useState } from "react";
import { allExpanded, defaultStyles, JsonView } from "react-json-view-lite";
import "react-json-view-lite/dist/index.css";
import type { components } from "../../api/schema";
import { useWorkspace } from "../../app/session";
import { Empty } from "../../components/Notes";

type Event = components["schemas"]["EventView"];

const KEEP = 500;
const FLUSH_MS = 250;

export function Live({ sourceId }: { sourceId: number }) {
  const workspace = useWorkspace();
  const [events, setEvents] = useState<Event[]>([]);
  const [paused, setPaused] = useState(false);
  const [missed, setMissed] = useState(0);
  const [state, setState] = useState<"connecting" | "open" | "lost">("connecting");
  const [search, setSearch] = useState("");
  const [selected, setSelected] = useState<string | null>(null);
  const [raw, setRaw] = useState(false);
  const buffer = useRef<Event[]>([]);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  useEffect(() => {
    const url = `/api/v1/workspaces/${encodeURIComponent(workspace)}/sources/${sourceId}/live`;
    const feed = new EventSource(url, { withCredentials: true });
    feed.onopen = () => setState("open");
    feed.onerror = () => setState(feed.readyState === EventSource.CLOSED ? "lost" : "connecting");
    feed.addEventListener("event", (message: MessageEvent<string>) => {
      const event = JSON.parse(message.data) as Event;
      if (pausedRef.current) setMissed((n) => n + 1);
      else buffer.current.push(event);
    });
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
  const chosen = events.find((event) => event.messageId === selected) ?? null;

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
            setMissed(0);
          }}
        >
          {paused ? "Resume" : "Pause"}
        </button>
        {paused && missed > 0 && <span className="muted">{missed} event(s) arrived while paused</span>}
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
              <li key={event.messageId}>
                <button
                  type="button"
                  aria-pressed={event.messageId === selected}
                  onClick={() => setSelected(event.messageId)}
                >
                  <span className="fate stored">stored</span>
                  <strong>{describe(event)}</strong>
                  <span className="muted">{new Date(event.receivedAt).toLocaleTimeString()}</span>
                </button>
              </li>
            ))}
          </ul>
          <div className="event-detail" aria-label="Selected event">
            {chosen ? (
              <>
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
                  <JsonView data={chosen.payload} shouldExpandNode={allExpanded} style={defaultStyles} />
                )}
              </>
            ) : (
              <p className="muted">Choose an event to see it as it was stored.</p>
            )}
          </div>
        </div>
      )}
    </section>
  );
}

function describe(event: Event): string {
  const payload = event.payload as { type?: string; event?: string; userId?: string; anonymousId?: string };
  const who = payload.userId ?? payload.anonymousId ?? "";
  const what = payload.type === "track" ? (payload.event ?? "track") : (payload.type ?? "event");
  return who ? `${what} · ${who}` : what;
}
