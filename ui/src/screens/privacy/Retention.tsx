// Retention: how long each store keeps its rows (the workspace's window, and a source's own),
// a dry run of what would go now, and dropping it now. Headwater also drops it daily.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { api, inWorkspace, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { counted } from "../../components/words";
import { type Store, STORES, storeWords, type WindowRow, windowsOut } from "./words";

type Plan = components["schemas"]["RetentionPlanView"];

const WINDOWS = (workspace: string) => ["retention", workspace] as const;

export default function Retention() {
  const workspace = useWorkspace();
  const windows = useQuery({
    queryKey: WINDOWS(workspace),
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/retention", inWorkspace(workspace))),
  });
  return (
    <>
      <PageHeader title="Retention" />
      <p className="muted">
        Keep each kind of data only as long as it is needed. Rows older than their window are removed every day; a dry
        run shows what would go now, before anything is removed.
      </p>
      {windows.isPending ? (
        <Loading what="the retention windows" />
      ) : windows.error ? (
        <ErrorNote error={windows.error} retry={() => windows.refetch()} />
      ) : (
        <WindowsForm
          key={workspace}
          initial={windows.data.windows.map((w) => ({ store: w.store as Store, source_id: w.source_id, days: String(w.days) }))}
          defaultDays={windows.data.default_days}
        />
      )}
      <Run />
    </>
  );
}

function WindowsForm({ initial, defaultDays }: { initial: WindowRow[]; defaultDays: number | null | undefined }) {
  const workspace = useWorkspace();
  const canWrite = useCan("privacy:write");
  const queries = useQueryClient();
  const [rows, setRows] = useState<WindowRow[]>(initial);
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => setSaved(false), [rows]);
  const sources = useQuery({
    queryKey: ["sources", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/sources", inWorkspace(workspace))),
  });
  const save = useMutation({
    mutationFn: (windows: { store: Store; source_id: number | null; days: number }[]) =>
      ok(api.PUT("/api/v1/workspaces/{workspace}/retention", { ...inWorkspace(workspace), body: { windows } })),
    onSuccess: () => {
      setSaved(true);
      void queries.invalidateQueries({ queryKey: WINDOWS(workspace) });
    },
  });
  const change = (at: number, part: Partial<WindowRow>) => setRows(rows.map((row, i) => (i === at ? { ...row, ...part } : row)));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const out = windowsOut(rows);
    if ("problem" in out) {
      setProblem(out.problem);
      return;
    }
    setProblem(null);
    save.mutate(out.windows);
  };
  const fallback =
    defaultDays == null
      ? "Without a window, a store keeps everything."
      : `Without a window, a store keeps ${counted(defaultDays, "day")} (the installation's default).`;
  return (
    <form className="card" onSubmit={submit} aria-labelledby="windows-title">
      <h2 id="windows-title">Windows</h2>
      <p className="muted">{fallback} A source's own window wins over the workspace's for that source.</p>
      {rows.length === 0 ? (
        <Empty title="No window yet">
          <p>
            Everything is kept. {canWrite ? "Add a window, for example events kept 395 days, then run a dry run below." : ""}
          </p>
        </Empty>
      ) : (
        <table>
          <caption className="sr-only">Retention windows</caption>
          <thead>
            <tr>
              <th scope="col">Data</th>
              <th scope="col">For</th>
              <th scope="col">Kept (days)</th>
              {canWrite && <th scope="col">Remove</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, at) => (
              <tr key={at}>
                <td>
                  <select
                    aria-label={`Data of row ${at + 1}`}
                    value={row.store}
                    disabled={!canWrite}
                    onChange={(e) => change(at, { store: e.target.value as Store })}
                  >
                    {STORES.map((s) => (
                      <option key={s.store} value={s.store}>
                        {s.label}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  <select
                    aria-label={`Source of row ${at + 1}`}
                    value={row.source_id ?? ""}
                    disabled={!canWrite}
                    onChange={(e) => change(at, { source_id: e.target.value ? Number(e.target.value) : null })}
                  >
                    <option value="">The whole workspace</option>
                    {(sources.data ?? []).map((s) => (
                      <option key={s.id} value={s.id}>
                        Source: {s.name}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  <input
                    aria-label={`Days kept of row ${at + 1}`}
                    inputMode="numeric"
                    size={6}
                    value={row.days}
                    disabled={!canWrite}
                    onChange={(e) => change(at, { days: e.target.value })}
                  />
                </td>
                {canWrite && (
                  <td>
                    <button type="button" onClick={() => setRows(rows.filter((_, i) => i !== at))}>
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {problem && (
        <p className="error-text" role="alert">
          {problem}
        </p>
      )}
      {save.error ? <ErrorNote error={save.error} /> : null}
      {canWrite && (
        <div className="row">
          <button type="button" onClick={() => setRows([...rows, { store: "events", source_id: null, days: "395" }])}>
            Add a window
          </button>
          <button type="submit" className="primary" disabled={save.isPending}>
            Save the windows
          </button>
          {saved && <span role="status">Saved.</span>}
        </div>
      )}
    </form>
  );
}

function Run() {
  const workspace = useWorkspace();
  const canWrite = useCan("privacy:write");
  const dry = useMutation({
    mutationFn: () => ok(api.POST("/api/v1/workspaces/{workspace}/retention/dry-run", inWorkspace(workspace))),
  });
  const apply = useMutation({
    mutationFn: () => ok(api.POST("/api/v1/workspaces/{workspace}/retention/apply", inWorkspace(workspace))),
  });
  const shown = apply.data ?? dry.data;
  return (
    <section className="card" aria-labelledby="run-title">
      <h2 id="run-title">What would be removed now</h2>
      <p className="muted">Save the windows first: the dry run uses the saved ones.</p>
      <div className="row">
        <button type="button" onClick={() => dry.mutate()} disabled={dry.isPending}>
          Dry run
        </button>
        {canWrite && (
          <button
            type="button"
            className="danger"
            disabled={apply.isPending}
            onClick={() => {
              if (
                window.confirm(
                  "Remove now every row older than its window? This cannot be undone: removed rows cannot be brought back.",
                )
              )
                apply.mutate();
            }}
          >
            Apply now
          </button>
        )}
      </div>
      {dry.error ? <ErrorNote error={dry.error} /> : null}
      {apply.error ? <ErrorNote error={apply.error} /> : null}
      {shown && <PlanTable plan={shown} />}
    </section>
  );
}

function span(item: Plan["items"][number]): string {
  return `the day ${new Date(item.start).toLocaleDateString()}`;
}

/** Whose rows an item removes: a source's, a destination's or a journey's, or all of the day's. */
function whose(item: Plan["items"][number]): string {
  if (item.source_id != null) return `Source #${item.source_id}`;
  if (item.destination_id != null) return `Destination #${item.destination_id}`;
  if (item.journey_id != null) return `Journey #${item.journey_id}`;
  return "All";
}

const ACTION_WORDS: Record<string, string> = { drop_partition: "Drop the whole day", delete_rows: "Delete rows" };

function PlanTable({ plan }: { plan: Plan }) {
  const items = plan.items;
  return (
    <div role="status">
      <p>
        {plan.dry_run
          ? items.length === 0
            ? "Nothing would be removed now: no row is older than its window."
            : `A dry run as of ${new Date(plan.as_of).toLocaleString()}: ${counted(plan.rows, "row")} would be removed. Nothing was removed yet.`
          : `Done: ${counted(plan.rows, "row")} removed.`}
      </p>
      {items.length > 0 && (
        <table>
          <caption className="sr-only">{plan.dry_run ? "What would be removed" : "What was removed"}</caption>
          <thead>
            <tr>
              <th scope="col">Data</th>
              <th scope="col">Whose</th>
              <th scope="col">How</th>
              <th scope="col">Which</th>
              <th scope="col">Rows</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item, at) => (
              <tr key={at}>
                <td>{storeWords(item.store)}</td>
                <td>{whose(item)}</td>
                <td>{ACTION_WORDS[item.action] ?? item.action}</td>
                <td>{span(item)}</td>
                <td>{item.rows.toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
