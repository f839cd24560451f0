// A profile's events, newest first, a page at a time, filtered by type and by name; each
// event opens to the message as stored.
import { useInfiniteQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { allExpanded, defaultStyles, JsonView } from "react-json-view-lite";
import "react-json-view-lite/dist/index.css";
import { api, ok } from "../../api/client";
import { useWorkspace } from "../../app/session";
import { ErrorNote, Loading } from "../../components/Notes";
import { when } from "./shared";

const TYPES = ["track", "identify", "page", "screen", "group", "alias"] as const;
const PAGE = 50;

interface Filter {
  type: string;
  name: string;
}

export function Timeline({ profileId }: { profileId: string }) {
  const workspace = useWorkspace();
  const [filter, setFilter] = useState<Filter>({ type: "", name: "" });
  const events = useInfiniteQuery({
    queryKey: ["profile-events", workspace, profileId, filter],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/profiles/{profile_id}/events", {
          params: {
            path: { workspace, profile_id: profileId },
            query: {
              limit: PAGE,
              before: pageParam,
              type: filter.type || undefined,
              name: filter.name || undefined,
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.next ?? undefined,
  });
  const filtered = Boolean(filter.type || filter.name);
  const all = events.data?.pages.flatMap((page) => page.events) ?? [];
  return (
    <section aria-label="Events">
      <FilterForm onFilter={setFilter} />
      {events.isPending ? (
        <Loading what="events" />
      ) : events.error ? (
        <ErrorNote error={events.error} retry={() => events.refetch()} />
      ) : all.length === 0 ? (
        <p className="muted">
          {filtered
            ? "No event of this profile matches the filter. Clear it, or try another name or type."
            : "No event yet: the profile's track, page and identify calls appear here."}
        </p>
      ) : (
        <>
          <ol className="timeline" aria-label="Timeline">
            {all.map((event) => (
              <li key={event.message_id}>
                <details>
                  <summary>
                    <time dateTime={event.timestamp}>{when(event.timestamp)}</time>{" "}
                    <span className="badge">{event.type ?? "event"}</span> {event.name ?? ""}
                  </summary>
                  <JsonView data={event.message} shouldExpandNode={allExpanded} style={defaultStyles} />
                </details>
              </li>
            ))}
          </ol>
          {events.hasNextPage && (
            <button type="button" onClick={() => events.fetchNextPage()} disabled={events.isFetchingNextPage}>
              {events.isFetchingNextPage ? "Loading older events…" : "Load older events"}
            </button>
          )}
        </>
      )}
    </section>
  );
}

function FilterForm({ onFilter }: { onFilter: (filter: Filter) => void }) {
  const [type, setType] = useState("");
  const [name, setName] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onFilter({ type, name: name.trim() });
  };
  return (
    <form className="filters" aria-label="Filter events" onSubmit={submit}>
      <label>
        Type
        <select value={type} onChange={(e) => setType(e.target.value)}>
          <option value="">Any type</option>
          {TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>
      <label>
        Event name contains
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Order Completed" />
      </label>
      <button type="submit">Filter</button>
    </form>
  );
}
