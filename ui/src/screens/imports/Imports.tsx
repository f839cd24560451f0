// File imports: upload a CSV, JSON Lines or Parquet file into a source, choose what each
// column is, check every row first, run it and watch it; the history below.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { type FormEvent, useState } from "react";
import { api, csrfToken, inWorkspace, ok } from "../../api/client";
import { ApiError } from "../../api/errors";
import type { components } from "../../api/schema";
import { useCan, useWorkspace } from "../../app/session";
import { DataTable } from "../../components/DataTable";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { type Kind, KINDS, type Role, type Roles, mappingOf, rolesOf, roleChoices, rowError, statusWords } from "./words";

type Import = components["schemas"]["ImportView"];
type DryRun = components["schemas"]["DryRunView"];

const HISTORY = (workspace: string) => ["imports", workspace] as const;

const HISTORY_COLUMNS: ColumnDef<Import, any>[] = [
  { accessorKey: "file_name", header: "File" },
  { accessorKey: "kind", header: "Kind", cell: (c) => KINDS[c.getValue() as Kind].label },
  { accessorKey: "status", header: "State", cell: (c) => statusWords(c.row.original) },
  { accessorKey: "rows_total", header: "Rows", cell: (c) => c.getValue().toLocaleString() },
  { accessorKey: "imported", header: "Imported", cell: (c) => c.getValue().toLocaleString() },
  { accessorKey: "duplicates", header: "Already there", cell: (c) => c.getValue().toLocaleString() },
  { accessorKey: "rejected", header: "Refused", cell: (c) => c.getValue().toLocaleString() },
  { accessorKey: "created_at", header: "Uploaded", cell: (c) => new Date(c.getValue()).toLocaleString() },
];

export default function Imports() {
  const workspace = useWorkspace();
  const canImport = useCan("sources:write");
  const [open, setOpen] = useState<number | null>(null);
  const history = useQuery({
    queryKey: HISTORY(workspace),
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/imports", inWorkspace(workspace))),
    refetchInterval: (query) =>
      query.state.data?.some((i) => i.status === "queued" || i.status === "running") ? 1000 : false,
  });
  const chosen = history.data?.find((i) => i.id === open);
  return (
    <>
      <PageHeader title="Imports" />
      <p className="muted">
        Bring in customer lists, past events or accounts from a file (CSV, JSON Lines or Parquet). Each row goes in as if
        it had been sent to the source; importing the same file again adds nothing twice.
      </p>
      {canImport && <Upload onUploaded={setOpen} />}
      {chosen && <ImportCard key={chosen.id} job={chosen} onClose={() => setOpen(null)} />}
      <h2>History</h2>
      {history.isPending ? (
        <Loading what="the imports" />
      ) : history.error ? (
        <ErrorNote error={history.error} retry={() => history.refetch()} />
      ) : history.data.length === 0 ? (
        <Empty title="No import yet">
          <p>
            {canImport
              ? "Choose a file above: its columns are shown before anything is imported."
              : "Ask a developer of this workspace to import a file."}
          </p>
        </Empty>
      ) : (
        <DataTable label="Imports" rows={history.data} columns={HISTORY_COLUMNS} onRowClick={(i) => setOpen(i.id)} />
      )}
    </>
  );
}

async function uploadFile(workspace: string, file: File, kind: Kind, sourceId: number): Promise<Import> {
  const params = new URLSearchParams({ source_id: String(sourceId), kind, file_name: file.name });
  const suffix = file.name.toLowerCase().split(".").pop() ?? "";
  const format = { csv: "csv", jsonl: "jsonl", ndjson: "jsonl", parquet: "parquet" }[suffix];
  if (format) params.set("format", format);
  const headers: Record<string, string> = { "Content-Type": file.type || "application/octet-stream" };
  const token = csrfToken();
  if (token) headers["X-CSRF-Token"] = token;
  let response: Response;
  try {
    response = await fetch(`/api/v1/workspaces/${encodeURIComponent(workspace)}/imports?${params}`, {
      method: "POST",
      body: file,
      headers,
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, "offline", "Headwater cannot be reached. Check your connection and try again.");
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw ApiError.of(response.status, body);
  return body as Import;
}

function Upload({ onUploaded }: { onUploaded: (id: number) => void }) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [kind, setKind] = useState<Kind>("profiles");
  const [source, setSource] = useState("");
  const sources = useQuery({
    queryKey: ["sources", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/sources", inWorkspace(workspace))),
  });
  const upload = useMutation({
    mutationFn: () => uploadFile(workspace, file as File, kind, Number(source || sources.data?.[0]?.id)),
    onSuccess: async (job) => {
      await queries.invalidateQueries({ queryKey: HISTORY(workspace) });
      onUploaded(job.id);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    upload.mutate();
  };
  if (sources.data?.length === 0) {
    return (
      <Empty title="No source to import into">
        <p>Rows enter through a source. Add one under Sources first.</p>
      </Empty>
    );
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="upload-title">
      <h2 id="upload-title">Import a file</h2>
      <label>
        File (CSV, JSON Lines or Parquet)
        <input
          type="file"
          required
          accept=".csv,.jsonl,.ndjson,.parquet"
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
        />
      </label>
      <fieldset>
        <legend>What does each row hold?</legend>
        {(Object.keys(KINDS) as Kind[]).map((k) => (
          <label className="inline" key={k}>
            <input type="radio" name="kind" checked={kind === k} onChange={() => setKind(k)} />
            {KINDS[k].label}: {KINDS[k].help}
          </label>
        ))}
      </fieldset>
      <label>
        Source
        <select value={source} onChange={(e) => setSource(e.target.value)}>
          {sources.data?.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      {upload.error ? <ErrorNote error={upload.error} /> : null}
      <div className="row">
        <button type="submit" className="primary" disabled={upload.isPending || !file}>
          {upload.isPending ? "Uploading…" : "Upload and show columns"}
        </button>
      </div>
    </form>
  );
}

function ImportCard({ job, onClose }: { job: Import; onClose: () => void }) {
  return (
    <section className="card" aria-labelledby="import-title">
      <div className="row">
        <h2 id="import-title">
          {job.file_name}: {KINDS[job.kind].label.toLowerCase()}
        </h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      {job.status === "uploaded" ? <Mapping job={job} /> : <Progress job={job} />}
    </section>
  );
}

function Mapping({ job }: { job: Import }) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const [roles, setRoles] = useState<Roles>(() => rolesOf(job.mapping, job.columns));
  const [dry, setDry] = useState<DryRun | null>(null);
  const path = { params: { path: { workspace, import_id: job.id } } };
  const check = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/imports/{import_id}/dry-run", {
          ...path,
          body: { mapping: mappingOf(roles), max_errors: 200 },
        }),
      ),
    onSuccess: setDry,
  });
  const start = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/imports/{import_id}/start", {
          ...path,
          body: { mapping: mappingOf(roles) },
        }),
      ),
    onSuccess: () => queries.invalidateQueries({ queryKey: HISTORY(workspace) }),
  });
  const of = (column: string): Role => roles[column] ?? { role: "skip", name: column };
  const choose = (column: string, role: string) => {
    setDry(null);
    setRoles({ ...roles, [column]: { ...of(column), role: role as Role["role"] } });
  };
  const rename = (column: string, name: string) => {
    setDry(null);
    setRoles({ ...roles, [column]: { ...of(column), name } });
  };
  const fieldWord = job.kind === "events" ? "property" : "trait";
  return (
    <>
      <p>
        {job.rows_total.toLocaleString()} rows. Say what each column holds; the first rows are shown as examples.
      </p>
      <table aria-label="Columns">
        <thead>
          <tr>
            <th>Column</th>
            <th>Example</th>
            <th>Holds</th>
            <th>Saved as</th>
          </tr>
        </thead>
        <tbody>
          {job.columns.map((column) => (
            <tr key={column}>
              <td>{column}</td>
              <td className="muted">{example(job, column)}</td>
              <td>
                <select aria-label={`${column} holds`} value={of(column).role} onChange={(e) => choose(column, e.target.value)}>
                  {roleChoices(job.kind, fieldWord).map(([role, words]) => (
                    <option key={role} value={role}>
                      {words}
                    </option>
                  ))}
                </select>
              </td>
              <td>
                {of(column).role === "field" && (
                  <input aria-label={`${column} saved as`} value={of(column).name} onChange={(e) => rename(column, e.target.value)} />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {check.error ? <ErrorNote error={check.error} /> : null}
      {dry && <DryRunResult dry={dry} />}
      {start.error ? <ErrorNote error={start.error} /> : null}
      <div className="row">
        <button type="button" disabled={check.isPending} onClick={() => check.mutate()}>
          {check.isPending ? "Checking every row…" : "Check every row first"}
        </button>
        <button type="button" className="primary" disabled={start.isPending} onClick={() => start.mutate()}>
          {start.isPending ? "Starting…" : "Import the rows"}
        </button>
      </div>
    </>
  );
}

function example(job: Import, column: string): string {
  const value = job.sample.map((row) => row[column]).find((v) => v !== null && v !== undefined && v !== "");
  return value === undefined ? "" : String(typeof value === "object" ? JSON.stringify(value) : value).slice(0, 40);
}

function DryRunResult({ dry }: { dry: DryRun }) {
  if (dry.problems.length > 0) {
    return (
      <div role="alert" className="error">
        {dry.problems.map((p) => (
          <p key={p}>{p.charAt(0).toUpperCase() + p.slice(1)}.</p>
        ))}
      </div>
    );
  }
  return (
    <div role="status" aria-label="Check result">
      <p>
        {dry.valid.toLocaleString()} of {dry.rows.toLocaleString()} rows can be imported
        {dry.rejected > 0 ? `; ${dry.rejected.toLocaleString()} would be refused:` : ". Nothing was written yet."}
      </p>
      {dry.errors.length > 0 && (
        <ul aria-label="Rows refused">
          {dry.errors.map((e) => (
            <li key={`${e.row}-${e.column}`}>{rowError(e)}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Progress({ job }: { job: Import }) {
  return (
    <>
      <p role="status" aria-label="Import state">
        {statusWords(job)}
      </p>
      <progress aria-label="Rows done" value={job.checkpoint} max={Math.max(job.rows_total, 1)} />
      <p>
        {job.imported.toLocaleString()} imported, {job.duplicates.toLocaleString()} already there,{" "}
        {job.rejected.toLocaleString()} refused.
      </p>
      {job.errors.length > 0 && (
        <>
          <h3>Rows refused</h3>
          <ul aria-label="Rows refused">
            {job.errors.map((e) => (
              <li key={`${e.row}-${e.column}`}>{rowError(e)}</li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
