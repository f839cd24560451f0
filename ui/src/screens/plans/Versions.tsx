// Every version of a plan, and what changed between two of them, breaking changes first in mind.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading } from "../../components/Notes";

type Diff = components["schemas"]["PlanDiffView"];
type Change = components["schemas"]["PropertyChangeView"];

export function Versions({ slug, newest }: { slug: string; newest: number }) {
  const workspace = useWorkspace();
  const [from, setFrom] = useState(Math.max(1, newest - 1));
  const [to, setTo] = useState(newest);
  const versions = useQuery({
    queryKey: ["tracking-plan", workspace, slug, "versions"],
    queryFn: () =>
      ok(api.GET("/api/v1/workspaces/{workspace}/tracking-plans/{slug}/versions", { params: { path: { workspace, slug } } })),
  });
  if (versions.isPending) return <Loading what="versions" />;
  if (versions.error) return <ErrorNote error={versions.error} retry={() => versions.refetch()} />;
  return (
    <>
      <table className="wide" aria-label="Versions">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Saved</th>
            <th scope="col">Events</th>
            <th scope="col">Note</th>
          </tr>
        </thead>
        <tbody>
          {versions.data.map((v) => (
            <tr key={v.version}>
              <td>{v.version}</td>
              <td>{new Date(v.created_at).toLocaleString()}</td>
              <td>{v.events}</td>
              <td>{v.note}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2 className="spaced">What changed</h2>
      {newest < 2 ? (
        <Empty title="Only one version">
          <p>Each save stores a new version. Once there are two, what changed between them shows here.</p>
        </Empty>
      ) : (
        <>
          <div className="row">
            <label>
              From version
              <select value={from} onChange={(e) => setFrom(Number(e.target.value))}>
                {versions.data.map((v) => (
                  <option key={v.version}>{v.version}</option>
                ))}
              </select>
            </label>
            <label>
              To version
              <select value={to} onChange={(e) => setTo(Number(e.target.value))}>
                {versions.data.map((v) => (
                  <option key={v.version}>{v.version}</option>
                ))}
              </select>
            </label>
          </div>
          <DiffView slug={slug} from={from} to={to} />
        </>
      )}
    </>
  );
}

function DiffView({ slug, from, to }: { slug: string; from: number; to: number }) {
  const workspace = useWorkspace();
  const diff = useQuery({
    queryKey: ["tracking-plan", workspace, slug, "diff", from, to],
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/tracking-plans/{slug}/diff", {
          params: { path: { workspace, slug }, query: { from, to } },
        }),
      ),
  });
  if (diff.isPending) return <Loading what="the changes" />;
  if (diff.error) return <ErrorNote error={diff.error} retry={() => diff.refetch()} />;
  return <DiffList diff={diff.data} />;
}

function DiffList({ diff }: { diff: Diff }) {
  const { events } = diff;
  const sections: { title: string; changes: Change[] }[] = [
    ...events.changed.map((e) => ({ title: `${e.name} (${e.type})`, changes: e.properties })),
    { title: "Identify traits", changes: diff.identify_traits },
    { title: "Group traits", changes: diff.group_traits },
    { title: "Common schema", changes: diff.common },
  ].filter((s) => s.changes.length > 0);
  const nothing = events.added.length + events.removed.length + sections.length === 0;
  return (
    <section aria-label={`Changes from version ${diff.from} to ${diff.to}`} className="card">
      <p>
        {nothing
          ? "No event or property changed."
          : diff.breaking
            ? "Breaking: events valid under the older version may now fail."
            : "Not breaking: every event valid before is still valid."}
      </p>
      {events.added.map((e) => (
        <p key={`+${e.type}${e.name}`}>
          Event added: <strong>{e.name}</strong> ({e.type})
        </p>
      ))}
      {events.removed.map((e) => (
        <p key={`-${e.type}${e.name}`}>
          Event removed: <strong>{e.name}</strong> ({e.type}) <span className="badge warn">breaking</span>
        </p>
      ))}
      {sections.map((section) => (
        <div key={section.title}>
          <h3>{section.title}</h3>
          <ul>
            {section.changes.map((change, i) => (
              <li key={i}>
                {describe(change)} {change.breaking && <span className="badge warn">breaking</span>}
              </li>
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}

/** A property change in words: "coupon: now required (was optional)". */
export function describe(change: Change): string {
  const path = change.path ?? "the schema";
  if (change.change === "added") return `${path}: added, ${rule(change.after)}`;
  if (change.change === "removed") return `${path}: removed (was ${rule(change.before)})`;
  if (change.change === "schema") return "The schema changed in a way that is not about one property.";
  const before = (change.before ?? {}) as Record<string, unknown>;
  const after = (change.after ?? {}) as Record<string, unknown>;
  const fields = new Set([...Object.keys(before), ...Object.keys(after)]);
  const parts = [...fields]
    .filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]))
    .map((field) => {
      if (field === "required") return after.required ? "now required (was optional)" : "now optional (was required)";
      return `${field} ${show(before[field])} → ${show(after[field])}`;
    });
  return `${path}: ${parts.join("; ") || "changed"}`;
}

function rule(value: unknown): string {
  const r = (value ?? {}) as Record<string, unknown>;
  const parts = [r.required ? "required" : "optional"];
  if (r.types) parts.push(show(r.types));
  if (r.enum) parts.push(`one of ${show(r.enum)}`);
  if (r.pattern) parts.push(`matching ${show(r.pattern)}`);
  if (r.format) parts.push(`format ${show(r.format)}`);
  return parts.join(", ");
}

function show(value: unknown): string {
  if (value === undefined || value === null) return "none";
  if (Array.isArray(value)) return value.map(String).join(" or ");
  return String(value);
}
