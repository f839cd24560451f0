// One sync: what it sends where, "Run now", and its runs with their counts and the rows that
// failed (each with its reason).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { api, ok } from "../../api/client";
import { useCan, useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { MODES, onSync, type Run, runSummary, type Sync, useSync } from "./queries";
import { targetLabel } from "./ReverseEtl";

export default function SyncDetail() {
  const workspace = useWorkspace();
  const syncId = Number(useParams().syncId);
  const canRun = useCan("sources:write");
  const client = useQueryClient();
  const { sync, runs } = useSync(syncId);
  const run = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/reverse-etl/syncs/{sync_id}/run", onSync(workspace, syncId)),
      ),
    onSuccess: (updated) => client.setQueryData(["retl-sync", workspace, syncId], updated),
  });
  if (sync.isPending) return <Loading what="the sync" />;
  if (sync.error) return <ErrorNote error={sync.error} retry={() => sync.refetch()} />;
  const busy = sync.data.run_requested || sync.data.running;
  return (
    <>
      <p className="crumbs">
        <Link to={`/w/${encodeURIComponent(workspace)}/reverse-etl`}>Reverse ETL</Link> ›
      </p>
      <PageHeader title={sync.data.name}>
        {busy ? <span className="badge">{sync.data.running ? "Running" : "Starting…"}</span> : null}
        {canRun && (
          <button type="button" className="primary" disabled={busy || run.isPending} onClick={() => run.mutate()}>
            Run now
          </button>
        )}
      </PageHeader>
      {run.error ? <ErrorNote error={run.error} /> : null}
      <Summary sync={sync.data} />
      <h2 className="section-title">Runs</h2>
      {runs.isPending ? (
        <Loading what="runs" />
      ) : runs.error ? (
        <ErrorNote error={runs.error} retry={() => runs.refetch()} />
      ) : runs.data.length === 0 ? (
        <Empty title="No run yet">
          <p>
            {sync.data.next_run_at
              ? `The first run starts ${new Date(sync.data.next_run_at).toLocaleString()}. `
              : "This sync runs only when asked. "}
            {canRun ? "Press “Run now” to send the model's rows now." : ""}
          </p>
        </Empty>
      ) : (
        <RunTable runs={runs.data} />
      )}
    </>
  );
}

const IDENTIFIERS: Record<string, string> = {
  user_id: "User id",
  anonymous_id: "Anonymous id",
  group_id: "Group id",
  event_column: "Event name",
};

function Summary({ sync }: { sync: Sync }) {
  const mapping = sync.mapping as Record<string, unknown>;
  const fields = Object.entries((mapping.fields ?? {}) as Record<string, string>);
  return (
    <dl className="facts" aria-label="Sync settings">
      <dt>Sends to</dt>
      <dd>{targetLabel(sync)}</dd>
      <dt>Mode</dt>
      <dd>{MODES[sync.mode] ?? sync.mode}</dd>
      <dt>Identifiers</dt>
      <dd>
        {Object.entries(IDENTIFIERS)
          .filter(([key]) => mapping[key])
          .map(([key, label]) => `${label} ← ${String(mapping[key])}`)
          .join(", ") || "—"}
      </dd>
      <dt>Fields</dt>
      <dd>{fields.length ? fields.map(([name, column]) => `${name} ← ${column}`).join(", ") : "Every other column"}</dd>
      <dt>Next run</dt>
      <dd>{sync.next_run_at ? new Date(sync.next_run_at).toLocaleString() : "When run by hand"}</dd>
    </dl>
  );
}

function RunTable({ runs }: { runs: Run[] }) {
  return (
    <table className="wide" aria-label="Runs">
      <thead>
        <tr>
          <th>Started</th>
          <th>Outcome</th>
          <th>Rows read</th>
          <th>Added</th>
          <th>Changed</th>
          <th>Removed</th>
          <th>Failed</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <tr key={run.id}>
            <td>{new Date(run.started_at).toLocaleString()}</td>
            <td>
              {runSummary(run)}
              {run.failures.length ? (
                <details>
                  <summary>Rows that failed</summary>
                  <ul className="plain-list">
                    {run.failures.map((failure, index) => (
                      <li key={index}>
                        <code>{failure.key || "(no key)"}</code>: {failure.reason}
                      </li>
                    ))}
                  </ul>
                </details>
              ) : null}
            </td>
            <td>{run.rows_read}</td>
            <td>{run.added}</td>
            <td>{run.changed}</td>
            <td>{run.removed}</td>
            <td>{run.failed}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
