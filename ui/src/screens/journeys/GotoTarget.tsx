// Where a go-to node jumps: chosen among the nodes further on, by label. A journey only goes
// forward (graph.py refuses loops), so nodes from which a way leads back are not offered; a
// target that became one (the graph changed since) stays shown, said to go back.
import { createContext, useContext } from "react";
import { type Document, forwardTargets } from "./graph";

/** The journey and the node whose form is drawn: what a node picker chooses among. */
export const NodeScope = createContext<{ document: Document; id: string } | null>(null);

interface Props {
  label: string;
  value: unknown;
  set: (value: unknown) => void;
  readOnly: boolean;
}

export function GotoTarget({ label, value, set, readOnly }: Props) {
  const scope = useContext(NodeScope);
  if (!scope) return null;
  const { document, id } = scope;
  const targets = forwardTargets(document, id);
  const current = typeof value === "string" ? value : "";
  const name = (node: string) => document.nodes[node]?.label || node;
  const stray = current !== "" && !targets.includes(current);
  return (
    <div className="field">
      <label>
        {label}
        <select aria-label={label} disabled={readOnly} value={current} onChange={(e) => set(e.target.value || undefined)}>
          <option value="">{targets.length ? "Choose a node further on" : "No node further on yet"}</option>
          {targets.map((node) => (
            <option key={node} value={node}>
              {name(node)}
              {name(node) === node ? "" : ` (${node})`}
            </option>
          ))}
          {stray && (
            <option value={current}>
              {current in document.nodes ? `${name(current)}: goes back, not allowed` : `${current}: not a node`}
            </option>
          )}
        </select>
      </label>
      <small className="muted">
        {targets.length
          ? "Only nodes further on are offered: a journey never goes back to a step it passed."
          : "Add the node to go to first: any node from which no way leads back here."}
      </small>
    </div>
  );
}
