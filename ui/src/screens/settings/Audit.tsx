// Who changed what, when and from where; filtered, paged and exported.
import { useInfiniteQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, ok } from "../../api/client";
import { useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";

interface Filters {
  actor?: string;
  resource?: string;
  since?: string;
  until?: string;
}

function clean(filters: Filters): Filters {
  return Object.fromEntries(Object.entries(filters).filter(([, v]) => v)) as Filters;
}

function moment(local: string): string | undefined {
  return local ? new Date(local).toISOString() : undefined;
}

export default function Audit() {
  const workspace = useWorkspace();
  const [draft, setDraft] = useState({ actor: "", resource: "", since: "", until: "" });
  const [filters, setFilters] = useState<Filters>({});
  const entries = useInfiniteQuery({
    queryKey: ["audit", workspace, filters],
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam }) =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/audit", {
          params: { path: { workspace }, query: { ...filters, before: pageParam, limit: 100 } },
        }),
      ),
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilters(
      clean({ actor: draft.actor, resource: draft.resource, since: moment(draft.since), until: moment(draft.until) }),
    );
  };
  const exportQuery = new URLSearchParams({ ...(filters as Record<string, string>), format: "csv" });
  const rows = entries.data?.pages.flatMap((page) => page.data) ?? [];
  return (
    <>
      <PageHeader title="Audit log">
        <a className="button" href={`/api/v1/workspaces/${encodeURIComponent(workspace)}/audit/export?${exportQuery}`}>
          Export CSV
        </a>
      </PageHeader>
      <p className="muted">Every change made in this workspace. Nobody, whatever their role, can edit or delete it.</p>
      <form className="filters" onSubmit={apply} aria-label="Filter the audit log">
        <label>
          Who
          <input value={draft.actor} onChange={(e) => setDraft({ ...draft, actor: e.target.value })} placeholder="email or token name" />
        </label>
        <label>
          What
          <input value={draft.resource} onChange={(e) => setDraft({ ...draft, resource: e.target.value })} placeholder="source, or source:12" />
        </label>
        <label>
          From
          <input type="datetime-local" value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.target.value })} />
        </label>
        <label>
          Until
          <input type="datetime-local" value={draft.until} onChange={(e) => setDraft({ ...draft, until: e.target.value })} />
        </label>
        <button type="submit">Filter</button>
      </form>
      {entries.isPending ? (
        <Loading what="the audit log" />
      ) : entries.error ? (
        <ErrorNote error={entries.error} retry={() => entries.refetch()} />
      ) : rows.length === 0 ? (
        <Empty title="No change recorded">
          <p>
            {Object.keys(filters).length
              ? "No change matches these filters. Clear a filter to see more."
              : "Changes appear here as soon as someone makes one."}
          </p>
        </Empty>
      ) : (
        <>
          <table className="wide">
            <caption className="sr-only">Audit entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Did</th>
                <th scope="col">To</th>
                <th scope="col">From</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((entry) => (
                <tr key={entry.id}>
                  <td>{new Date(entry.at).toLocaleString()}</td>
                  <td>{entry.actor.label}</td>
                  <td>{entry.action}</td>
                  <td>
                    <code>{entry.resource}</code>
                  </td>
                  <td>{entry.ip ?? "—"}</td>
                  <td>
                    <details>
                      <summary>Before and after</summary>
                      <pre tabIndex={0}>{JSON.stringify({ before: entry.before, after: entry.after }, null, 2)}</pre>
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {entries.hasNextPage && (
            <button type="button" onClick={() => entries.fetchNextPage()} disabled={entries.isFetchingNextPage}>
              {entries.isFetchingNextPage ? "Loading…" : "Older changes"}
            </button>
          )}
        </>
      )}
    </>
  );
}
