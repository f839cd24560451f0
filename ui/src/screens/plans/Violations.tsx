// What the plans caught over the last day: each kind of violation with its count and samples.
import { useQuery } from "@tanstack/react-query";
import { JsonTree } from "../../components/JsonTree";
import { api, inWorkspace, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading } from "../../components/Notes";
import { useSources } from "./sources";
import { VIOLATION, words } from "./words";

type Kind = components["schemas"]["ViolationKindView"];

export function Violations() {
  const workspace = useWorkspace();
  const violations = useQuery({
    queryKey: ["violations", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/violations", inWorkspace(workspace))),
    refetchInterval: 10_000,
  });
  const sources = useSources();
  if (violations.isPending) return <Loading what="violations" />;
  if (violations.error) return <ErrorNote error={violations.error} retry={() => violations.refetch()} />;
  if (violations.data.violations.length === 0) {
    return (
      <Empty title="No violation in the last 24 hours">
        <p>
          Every event of the sources connected to a plan matched it (or no source is connected yet: connect one under a
          plan's Sources tab).
        </p>
      </Empty>
    );
  }
  const names = new Map((sources.data ?? []).map((s) => [s.id, s.name]));
  return (
    <ul className="cards" aria-label="Violations in the last 24 hours">
      {violations.data.violations.map((kind) => (
        <ViolationCard key={`${kind.source_id}|${kind.event_type}|${kind.event_name}|${kind.type}|${kind.path}`} kind={kind} source={names.get(kind.source_id)} />
      ))}
    </ul>
  );
}

function ViolationCard({ kind, source }: { kind: Kind; source: string | undefined }) {
  const samples = Array.isArray(kind.samples) ? (kind.samples as unknown[]) : [];
  return (
    <li className="card">
      <p>
        <strong>{words(VIOLATION, kind.type)}</strong> at <code>{kind.path}</code> in <strong>{kind.event_name}</strong>{" "}
        <span className="muted">
          from {source ?? `source #${kind.source_id}`} · {kind.count.toLocaleString()} time{kind.count === 1 ? "" : "s"}
          {kind.last_seen && `, last ${new Date(kind.last_seen).toLocaleString()}`}
        </span>
      </p>
      {kind.message && <p>{kind.message}</p>}
      {samples.length > 0 && (
        <details>
          <summary>
            {samples.length} sample{samples.length === 1 ? "" : "s"}, newest first
          </summary>
          {samples.map((sample, i) => (
            <div key={i} className="json" role="group" aria-label={`Sample ${i + 1}`}>
              <JsonTree data={sample} />
            </div>
          ))}
        </details>
      )}
    </li>
  );
}
