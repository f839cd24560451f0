// Blocked events: what was wrong with each, and, once the plan or the sender is fixed, replay
// them through their source's plan or forward them to another source.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { JsonTree } from "../../components/JsonTree";
import { api, inWorkspace, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading } from "../../components/Notes";
import { useSources } from "./sources";
import { REASON, VIOLATION, words } from "./words";

type Blocked = components["schemas"]["QuarantinedView"];
type Status = "quarantined" | "all";

export function Quarantine() {
  const workspace = useWorkspace();
  const canWrite = useCan("plans:write");
  const [status, setStatus] = useState<Status>("quarantined");
  const [chosen, setChosen] = useState<Set<number>>(new Set());
  // labels beside their selects: a label around one would take the chosen option into its name
  const showId = useId();
  const blocked = useQuery({
    queryKey: ["quarantine", workspace, status],
    queryFn: () =>
      ok(api.GET("/api/v1/workspaces/{workspace}/quarantine", { params: { path: { workspace }, query: { status, limit: 200 } } })),
    refetchInterval: 5_000,
  });
  const sources = useSources();
  const names = new Map((sources.data ?? []).map((s) => [s.id, s.name]));
  const toggle = (id: number) =>
    setChosen((all) => {
      const next = new Set(all);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  return (
    <>
      <label className="inline" htmlFor={showId}>
        Show
      </label>
      <select id={showId} value={status} onChange={(e) => setStatus(e.target.value as Status)}>
          <option value="quarantined">Events waiting in the quarantine</option>
          <option value="all">Every blocked event, also those replayed or forwarded</option>
      </select>
      {canWrite && <Actions ids={[...chosen]} onDone={() => setChosen(new Set())} />}
      {blocked.isPending ? (
        <Loading what="the quarantine" />
      ) : blocked.error ? (
        <ErrorNote error={blocked.error} retry={() => blocked.refetch()} />
      ) : blocked.data.length === 0 ? (
        <Empty title="The quarantine is empty">
          <p>
            Events land here when a source's plan blocks them (a plan connected with “Block it”). Each keeps its reason,
            so it can be replayed once the plan or the sender is fixed.
          </p>
        </Empty>
      ) : (
        <ul className="cards" aria-label="Blocked events">
          {blocked.data.map((item) => (
            <BlockedCard
              key={item.id}
              item={item}
              source={names.get(item.source_id)}
              selectable={canWrite && item.status === "quarantined"}
              selected={chosen.has(item.id)}
              onToggle={() => toggle(item.id)}
            />
          ))}
        </ul>
      )}
    </>
  );
}

interface CardProps {
  item: Blocked;
  source: string | undefined;
  selectable: boolean;
  selected: boolean;
  onToggle: () => void;
}

function BlockedCard({ item, source, selectable, selected, onToggle }: CardProps) {
  const title = `${item.name ?? item.type} (${item.message_id})`;
  const violations = Array.isArray(item.violations) ? (item.violations as { type?: string; path?: string; message?: string }[]) : [];
  return (
    <li className="card">
      <div className="row">
        {selectable && <input type="checkbox" aria-label={`Select ${title}`} checked={selected} onChange={onToggle} />}
        <p>
          <strong>{item.name ?? item.type}</strong> from {source ?? `source #${item.source_id}`}:{" "}
          {words(REASON, item.reason)} <span className="badge">{item.status}</span>
          <br />
          <span className="muted small">
            Blocked {new Date(item.blocked_at).toLocaleString()}
            {item.attempts > 1 && `, ${item.attempts} attempts`} · message {item.message_id}
          </span>
        </p>
      </div>
      {violations.length > 0 && (
        <ul>
          {violations.map((v, i) => (
            <li key={i}>
              {words(VIOLATION, v.type ?? "")}
              {v.path && (
                <>
                  {" "}
                  at <code>{v.path}</code>
                </>
              )}
              {v.message && `: ${v.message}`}
            </li>
          ))}
        </ul>
      )}
      {item.payload !== undefined && (
        <details>
          <summary>The event as it was sent</summary>
          <div className="json">
            <JsonTree data={item.payload} />
          </div>
        </details>
      )}
    </li>
  );
}

function Actions({ ids, onDone }: { ids: number[]; onDone: () => void }) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const sources = useSources();
  const [target, setTarget] = useState<number | undefined>();
  const [result, setResult] = useState<string | null>(null);
  const toId = useId();
  const finish = async (said: string) => {
    setResult(said);
    onDone();
    await queries.invalidateQueries({ queryKey: ["quarantine", workspace] });
  };
  const replay = useMutation({
    mutationFn: () => ok(api.POST("/api/v1/workspaces/{workspace}/quarantine/replay", { ...inWorkspace(workspace), body: { ids } })),
    onSuccess: (sent) => finish(`${sent.replayed ?? 0} event(s) replayed through their source's plan.`),
  });
  const forward = useMutation({
    mutationFn: (to: number) =>
      ok(api.POST("/api/v1/workspaces/{workspace}/quarantine/forward", { ...inWorkspace(workspace), body: { ids, to_source: to } })),
    onSuccess: (sent) => finish(`${sent.forwarded ?? 0} event(s) forwarded.`),
  });
  const to = target ?? sources.data?.[0]?.id;
  const none = ids.length === 0;
  return (
    <div className="card" role="group" aria-label="Resend the selected events">
      <p className="muted small">
        {none ? "Select blocked events below to resend them." : `${ids.length} selected.`} Replay sends them through their
        source's current plan again; forward appends them under another source, whose plan applies.
      </p>
      <div className="row wrap">
        <button type="button" className="primary" disabled={none || replay.isPending} onClick={() => replay.mutate()}>
          Replay selected
        </button>
        <label className="inline" htmlFor={toId}>
          Forward to
        </label>
        <select id={toId} value={to} onChange={(e) => setTarget(Number(e.target.value))}>
            {(sources.data ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
        </select>
        <button type="button" disabled={none || to === undefined || forward.isPending} onClick={() => to !== undefined && forward.mutate(to)}>
          Forward selected
        </button>
      </div>
      {(replay.error || forward.error) && <ErrorNote error={replay.error ?? forward.error} />}
      {result && (
        <p className="note" role="status">
          {result}
        </p>
      )}
    </div>
  );
}
