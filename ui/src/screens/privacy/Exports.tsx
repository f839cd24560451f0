// Subject access: export everything Headwater holds about one person (their profile, events,
// audiences, journeys and what was sent to each destination), then download it as one JSON
// document or as a ZIP of CSV files. Files are kept for 7 days.
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, inWorkspace, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useHeld, useWorkspace } from "../../app/session";
import { LoadMore } from "../../components/LoadMore";
import { counted } from "../../components/words";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { statusWords, stillWorking, type SubjectType, subjectWords } from "./words";

type Export = components["schemas"]["ExportView"];

const LIST = (workspace: string) => ["privacy-exports", workspace] as const;
/** Exports a page holds; older ones load with "Load more". */
const PAGE = 50;

export default function Exports() {
  const workspace = useWorkspace();
  const canWrite = useCan("privacy:write");
  const list = useInfiniteQuery({
    queryKey: LIST(workspace),
    queryFn: ({ pageParam }) =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/privacy/exports", {
          params: { path: { workspace }, query: { limit: PAGE, before: pageParam } },
        }),
      ),
    initialPageParam: undefined as number | undefined,
    // newest first: the next page is older than the last export shown
    getNextPageParam: (last: Export[]) => (last.length < PAGE ? undefined : last[last.length - 1]?.id),
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.some((e) => stillWorking(e.status))) ? 1000 : false,
  });
  const shown = list.data?.pages.flat() ?? [];
  return (
    <>
      <PageHeader title="Subject access" />
      <p className="muted">
        When a person asks what is held about them, export it: their profile and identifiers, their events, the audiences
        and journeys they were in, and what was sent about them to each destination. Files are kept for 7 days.
      </p>
      {canWrite && <NewExport />}
      <section aria-labelledby="exports-title">
        <h2 id="exports-title">Exports</h2>
        {list.isPending ? (
          <Loading what="the exports" />
        ) : list.error ? (
          <ErrorNote error={list.error} retry={() => list.refetch()} />
        ) : shown.length === 0 ? (
          <Empty title="No export yet">
            <p>
              {canWrite
                ? "Type the person's user id above and choose “Export”. It takes a moment; the files then wait here."
                : "Exports of what is held about a person will be listed here. Your role may see them but not request one."}
            </p>
          </Empty>
        ) : (
          <table className="wide">
            <caption className="sr-only">Subject access exports</caption>
            <thead>
              <tr>
                <th scope="col">Requested</th>
                <th scope="col">Person</th>
                <th scope="col">Status</th>
                <th scope="col">Holds</th>
                <th scope="col">Download</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((item) => (
                <ExportRow key={item.id} item={item} />
              ))}
            </tbody>
          </table>
        )}
        <LoadMore pages={list} loading="Loading older exports…" />
      </section>
    </>
  );
}

function size(bytes: number | null | undefined): string {
  if (bytes == null) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function holds(counts: Record<string, number> | null | undefined): string {
  if (!counts) return "—";
  // the counts are named in the plural ("membership_changes"): "1 membership change"
  const parts = Object.entries(counts).map(([what, count]) => {
    const plural = what.replace(/_/g, " ");
    return counted(count, plural.replace(/s$/, ""), plural);
  });
  return parts.length ? parts.join(", ") : "Nothing held";
}

function ExportRow({ item }: { item: Export }) {
  const workspace = useWorkspace();
  const piiRead = useHeld()?.pii_read ?? false;
  const base = `/api/v1/workspaces/${encodeURIComponent(workspace)}/privacy/exports/${item.id}/download`;
  let download;
  if (item.status !== "done") {
    download = <span className="muted">{item.status === "failed" ? "—" : "When ready"}</span>;
  } else if (item.expired) {
    download = <span className="muted">Expired: request a new export</span>;
  } else if (!piiRead) {
    download = <span className="muted">Needs the personal-data grant: ask an owner</span>;
  } else {
    download = (
      <span className="row">
        <a href={`${base}?format=json`} download>
          JSON {size(item.files.json)}
        </a>
        <a href={`${base}?format=csv`} download>
          CSV (ZIP) {size(item.files.csv)}
        </a>
      </span>
    );
  }
  return (
    <tr>
      <td>{new Date(item.created_at).toLocaleString()}</td>
      <td>
        {subjectWords(item.subject_type)} <code>{item.subject_id}</code>
      </td>
      <td>
        <span className={`badge ${item.status === "done" ? "ok" : item.status === "failed" ? "bad" : ""}`}>
          {statusWords(item.status)}
        </span>
        {item.reason && <div className="error-text">{item.reason}</div>}
      </td>
      <td>{item.status === "done" ? holds(item.counts) : "—"}</td>
      <td>{download}</td>
    </tr>
  );
}

function NewExport() {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const [type, setType] = useState<SubjectType>("USER_ID");
  const [id, setId] = useState("");
  const create = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/privacy/exports", {
          ...inWorkspace(workspace),
          body: { subject_type: type, subject_id: id.trim() },
        }),
      ),
    onSuccess: () => {
      setId("");
      void queries.invalidateQueries({ queryKey: LIST(workspace) });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (id.trim()) create.mutate();
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="export-title">
      <h2 id="export-title">Export what is held about a person</h2>
      <div className="toolbar">
        <label>
          Kind of id
          <select value={type} onChange={(e) => setType(e.target.value as SubjectType)}>
            <option value="USER_ID">User id</option>
            <option value="ANONYMOUS_ID">Anonymous id</option>
          </select>
        </label>
        <label>
          The person's id
          <input required value={id} onChange={(e) => setId(e.target.value)} placeholder="user-123" />
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>
          Export
        </button>
      </div>
      {create.error ? <ErrorNote error={create.error} /> : null}
    </form>
  );
}
