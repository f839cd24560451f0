// The identity graph drawn as a graph: each identifier a node, each link (identifiers one event
// named together) an edge; then the identifiers as a table and the merges that built the
// profile. Plain SVG on a circle: a profile has a handful of identifiers, which a force
// layout library would not place better.
import type { Detail } from "./Profile";
import { when } from "./shared";

const WIDTH = 720;
const HEIGHT = 380;
const MOST = 60;
const LABEL = 28;

type Point = { x: number; y: number };

function layout(count: number): Point[] {
  if (count === 1) return [{ x: WIDTH / 2, y: HEIGHT / 2 }];
  const radius = Math.min(WIDTH, HEIGHT) / 2 - 60;
  return Array.from({ length: count }, (_, i) => {
    const angle = (2 * Math.PI * i) / count - Math.PI / 2;
    return { x: WIDTH / 2 + radius * Math.cos(angle) * 1.6, y: HEIGHT / 2 + radius * Math.sin(angle) };
  });
}

function short(text: string): string {
  return text.length > LABEL ? `${text.slice(0, LABEL - 1)}…` : text;
}

export function IdentityGraph({ detail }: { detail: Detail }) {
  const drawn = detail.identifiers.slice(0, MOST);
  const points = layout(drawn.length);
  const edges = detail.identifier_links.filter((l) => l.source < drawn.length && l.target < drawn.length);
  return (
    <section aria-label="Identity graph">
      <figure className="identity-graph">
        <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby="identity-graph-caption">
          {edges.map((edge) => {
            const a = points[edge.source]!;
            const b = points[edge.target]!;
            return (
              <line key={`${edge.source}-${edge.target}`} className="edge" x1={a.x} y1={a.y} x2={b.x} y2={b.y}>
                <title>Linked by event {edge.message_id}</title>
              </line>
            );
          })}
          {drawn.map((identifier, i) => {
            const p = points[i]!;
            return (
              <g key={`${identifier.type}:${identifier.value}`} className="node" data-testid="identity-node">
                <title>
                  {identifier.type}: {identifier.value}
                </title>
                <circle cx={p.x} cy={p.y} r={10} />
                <text x={p.x} y={p.y - 16} textAnchor="middle" className="node-type">
                  {identifier.type}
                </text>
                <text x={p.x} y={p.y + 26} textAnchor="middle">
                  {short(identifier.value)}
                </text>
              </g>
            );
          })}
        </svg>
        <figcaption id="identity-graph-caption">
          {detail.identifiers.length} identifiers, {edges.length} links
          {detail.identifiers.length > MOST && ` (the first ${MOST} are drawn; all are listed below)`}
        </figcaption>
      </figure>
      <h2>Identifiers</h2>
      <table className="wide" aria-label="Identifiers">
        <thead>
          <tr>
            <th scope="col">Type</th>
            <th scope="col">Value</th>
            <th scope="col">Added</th>
          </tr>
        </thead>
        <tbody>
          {detail.identifiers.map((identifier) => (
            <tr key={`${identifier.type}:${identifier.value}`}>
              <td>{identifier.type}</td>
              <td>{identifier.value}</td>
              <td>
                {when(identifier.added_at)}
                {identifier.message_id && <span className="muted small"> by event {identifier.message_id}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Merges detail={detail} />
    </section>
  );
}

function Merges({ detail }: { detail: Detail }) {
  return (
    <>
      <h2>Merge history</h2>
      {detail.merges.length === 0 ? (
        <p className="muted">
          No merge: every event named identifiers this profile already had, or new ones of no other profile.
        </p>
      ) : (
        <ol className="plain-list" aria-label="Merges">
          {detail.merges.map((merge) => (
            <li key={`${merge.merged}-${merge.message_id}`}>
              {when(merge.merged_at)}: profile <code>{merge.merged}</code> merged into{" "}
              {merge.survivor === detail.id ? "this profile" : <code>{merge.survivor}</code>} by event{" "}
              <code>{merge.message_id ?? "unknown"}</code>, which named identifiers of both.
            </li>
          ))}
        </ol>
      )}
    </>
  );
}
