// The selected node: its label, where each port leads (the keyboard's way to connect), its
// config's form, its problems, and making it the start or removing it.
import type { NodeType } from "./calls";
import { ConfigFields } from "./ConfigFields";
import { NodeScope } from "./GotoTarget";
import { connect, type Document, portsOf, type Problem, problemPlace, problemsOf, removeNode, updateNode } from "./graph";
import { type JsonSchema, plainDescription } from "./schema";

interface Props {
  id: string;
  document: Document;
  kind: NodeType | undefined;
  problems: Problem[];
  readOnly: boolean;
  onChange: (document: Document) => void;
  onClose: () => void;
}

export function NodePanel({ id, document, kind, problems, readOnly, onChange, onClose }: Props) {
  const node = document.nodes[id];
  if (!node) return null;
  const name = node.label || id;
  const ports = portsOf(node.type, node.config, kind?.family);
  const others = Object.entries(document.nodes).filter(([other]) => other !== id);
  const mine = problemsOf(problems, id);
  const schema = kind?.config_schema as JsonSchema | undefined;
  return (
    <section className="journey-panel" aria-labelledby="node-panel-title">
      <h2 id="node-panel-title">
        {name} <span className="muted small">{kind?.title ?? node.type}</span>
      </h2>
      {mine.length > 0 && (
        <ul className="journey-problems" aria-label={`Problems of ${name}`}>
          {mine.map((p) => (
            <li key={p.path + p.message}>
              {problemPlace(p.path, id) || "this node"}: {p.message}
            </li>
          ))}
        </ul>
      )}
      <fieldset disabled={readOnly} className="plain-fieldset">
        <label>
          Label
          <input
            value={node.label ?? ""}
            placeholder={id}
            onChange={(e) => onChange(updateNode(document, id, { label: e.target.value || null }))}
          />
        </label>
        <p className="muted small">
          Id <code>{id}</code>
          {document.start === id ? " · the journey starts here" : ""}
        </p>
        {ports.map((port) => (
          <label key={port}>
            Port “{port}” leads to
            <select
              value={node.next?.[port] ?? ""}
              onChange={(e) => onChange(connect(document, id, port, e.target.value || null))}
            >
              <option value="">(nowhere yet)</option>
              {others.map(([other, target]) => (
                <option key={other} value={other}>
                  {target.label || other}
                </option>
              ))}
            </select>
          </label>
        ))}
      </fieldset>
      {schema && (
        <div className="journey-config">
          {schema.description && <p className="muted small">{plainDescription(schema.description)}</p>}
          <NodeScope.Provider value={{ document, id }}>
            <ConfigFields
              key={id}
              schema={schema}
              root={schema}
              values={node.config ?? {}}
              onChange={(config) => onChange(updateNode(document, id, { config }))}
              readOnly={readOnly}
              path={name}
            />
          </NodeScope.Provider>
        </div>
      )}
      <div className="row wrap">
        {!readOnly && document.start !== id && (
          <button type="button" onClick={() => onChange({ ...document, start: id })}>
            Start here
          </button>
        )}
        {!readOnly && (
          <button
            type="button"
            className="danger"
            onClick={() => {
              onClose();
              onChange(removeNode(document, id));
            }}
          >
            Remove {name}
          </button>
        )}
        <button type="button" onClick={onClose}>
          Back to the journey
        </button>
      </div>
    </section>
  );
}
