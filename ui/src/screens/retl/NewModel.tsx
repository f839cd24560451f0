// A new model: the database's URL, the query and its primary key, tried with a preview of its
// first rows before it is saved.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, inWorkspace, ok } from "../../api/client";
import { useWorkspace } from "../../app/session";
import { FormActions } from "../../components/FormActions";
import { ErrorNote, PageHeader } from "../../components/Notes";
import type { Preview } from "./queries";

export default function NewModel() {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [name, setName] = useState("");
  const [connection, setConnection] = useState("");
  const [query, setQuery] = useState("");
  const [primaryKey, setPrimaryKey] = useState("");
  const [cursor, setCursor] = useState("");
  const base = `/w/${encodeURIComponent(workspace)}/reverse-etl`;
  const preview = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/reverse-etl/models/preview", {
          ...inWorkspace(workspace),
          body: { connection, query, primary_key: primaryKey || null, limit: 10 },
        }),
      ),
  });
  const save = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/reverse-etl/models", {
          ...inWorkspace(workspace),
          body: { name, connection, query, primary_key: primaryKey, cursor_column: cursor || null },
        }),
      ),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ["retl-models", workspace] });
      navigate(base);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <>
      <p className="crumbs">
        <Link to={base}>Reverse ETL</Link> ›
      </p>
      <PageHeader title="New model" />
      <form className="card" onSubmit={submit} aria-label="New model">
        <label>
          Name
          <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="Paying customers" />
        </label>
        <label>
          Database URL
          <input
            required
            type="password"
            autoComplete="off"
            value={connection}
            onChange={(e) => setConnection(e.target.value)}
            placeholder="postgresql://reader:password@db.example.com:5432/shop"
          />
          <span className="muted">
            Stored encrypted and never shown again: use a read-only account. Headwater only reads.
          </span>
        </label>
        <label>
          SQL query
          <textarea
            required
            rows={6}
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            placeholder="SELECT id, email, plan FROM customers"
          />
        </label>
        <label>
          Primary key column
          <input required value={primaryKey} onChange={(e) => setPrimaryKey(e.target.value)} placeholder="id" />
          <span className="muted">The column that names each row; Headwater compares runs by it.</span>
        </label>
        <label>
          Cursor column (optional)
          <input value={cursor} onChange={(e) => setCursor(e.target.value)} placeholder="updated_at" />
          <span className="muted">A column that grows when a row changes: each run then reads only newer rows.</span>
        </label>
        <div className="row">
          <button type="button" onClick={() => preview.mutate()} disabled={!connection || !query || preview.isPending}>
            {preview.isPending ? "Running the query…" : "Preview rows"}
          </button>
        </div>
        {preview.error ? <ErrorNote error={preview.error} /> : null}
        {preview.data ? <PreviewTable preview={preview.data} /> : null}
        <FormActions action="Save model" pending={save.isPending} error={save.error} onCancel={() => navigate(base)} />
      </form>
    </>
  );
}

export function PreviewTable({ preview }: { preview: Preview }) {
  return (
    <section aria-label="Preview">
      {preview.problems.map((problem) => (
        <div key={problem} className="note error" role="alert">
          {problem}
        </div>
      ))}
      {preview.rows.length === 0 ? (
        <p className="muted">The query returned no rows.</p>
      ) : (
        <div className="table-scroll">
          <table className="wide" aria-label="Preview rows">
            <thead>
              <tr>
                {preview.columns.map((column) => (
                  <th key={column}>{column}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {preview.rows.map((row, index) => (
                <tr key={index}>
                  {(row as unknown[]).map((value, column) => (
                    <td key={column}>{value === null ? "—" : String(value)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="muted">
        The first {preview.rows.length} rows, columns {preview.columns.join(", ")}.
      </p>
    </section>
  );
}
