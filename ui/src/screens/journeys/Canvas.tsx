// The journey drawn with @xyflow/react: a node per step with a handle per output port; dragging
// from a port to a node connects them. Every change is written into the document (graph.ts).
import {
  Background,
  type Connection,
  Controls,
  type EdgeChange,
  Handle,
  type NodeChange,
  type NodeProps,
  Position,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { type DragEvent, useState } from "react";
import {
  connect,
  type Document,
  edgeEnds,
  type FlowNode,
  JUMP,
  type NodeCounts,
  type Position as Point,
  type Problem,
  removeNode,
  toFlowEdges,
  toFlowNodes,
  updateNode,
} from "./graph";
import type { Trail } from "./testRun";

/** The drag data type of a palette item: the node type's key. */
export const PALETTE_DRAG = "application/x-headwater-node-type";

interface Props {
  document: Document;
  titles: Record<string, { title: string; family: string }>;
  problems: Problem[];
  readOnly: boolean;
  selected: string | null;
  onSelect: (id: string | null) => void;
  onChange: (document: Document) => void;
  onAdd: (type: string, position: Point) => void;
  /** Live figures per node (a published journey). */
  counts?: Record<string, NodeCounts>;
  /** What a test run went through, highlighted. */
  trail?: Trail | null;
}

export function Canvas(props: Props) {
  return (
    <ReactFlowProvider>
      <Flow {...props} />
    </ReactFlowProvider>
  );
}

const NODE_TYPES = { journey: JourneyNodeView };

function Flow({ document, titles, problems, readOnly, selected, onSelect, onChange, onAdd, counts, trail }: Props) {
  const flow = useReactFlow();
  // sizes measured by the canvas: kept so that nodes drawn again from the document stay shown
  const [sizes, setSizes] = useState<Record<string, { width: number; height: number }>>({});
  const [edge, setEdge] = useState<string | null>(null);
  const nodes = toFlowNodes(document, { titles, problems, readOnly, selected, sizes, counts, visited: trail?.nodes });
  const edges = toFlowEdges(document, trail?.edges).map((e) => ({ ...e, selected: e.id === edge }));

  const nodesChange = (changes: NodeChange<FlowNode>[]) => {
    let next = document;
    for (const change of changes) {
      if (change.type === "position" && change.position) {
        next = updateNode(next, change.id, { position: change.position });
      } else if (change.type === "remove" && !readOnly) {
        next = removeNode(next, change.id);
      } else if (change.type === "dimensions" && change.dimensions) {
        const size = change.dimensions;
        setSizes((old) => ({ ...old, [change.id]: size }));
      } else if (change.type === "select") {
        if (change.selected) onSelect(change.id);
        else if (change.id === selected && !changes.some((c) => c.type === "select" && c.selected)) onSelect(null);
      }
    }
    if (next !== document) onChange(next);
  };

  const edgesChange = (changes: EdgeChange[]) => {
    let next = document;
    for (const change of changes) {
      if (change.type === "remove" && !readOnly) {
        const [source, port] = edgeEnds(change.id);
        next = connect(next, source, port, null);
      } else if (change.type === "select") {
        setEdge(change.selected ? change.id : null);
      }
    }
    if (next !== document) onChange(next);
  };

  const connected = (connection: Connection) => {
    if (connection.sourceHandle && connection.source !== connection.target) {
      onChange(connect(document, connection.source, connection.sourceHandle, connection.target));
    }
  };

  const drop = (event: DragEvent) => {
    const type = event.dataTransfer.getData(PALETTE_DRAG);
    if (!type || readOnly) return;
    event.preventDefault();
    onAdd(type, flow.screenToFlowPosition({ x: event.clientX, y: event.clientY }));
  };

  return (
    <div className="journey-canvas" onDragOver={(e) => e.preventDefault()} onDrop={drop}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        onNodesChange={nodesChange}
        onEdgesChange={edgesChange}
        onConnect={connected}
        onPaneClick={() => onSelect(null)}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        deleteKeyCode={readOnly ? null : ["Backspace", "Delete"]}
        fitView
        fitViewOptions={{ maxZoom: 1 }}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}

function JourneyNodeView({ data, selected }: NodeProps<FlowNode>) {
  const problems = data.problems.length;
  return (
    <div className={`journey-node${selected ? " selected" : ""}${problems ? " has-problems" : ""}`}>
      <Handle type="target" position={Position.Top} isConnectable={!data.readOnly} />
      <div className="journey-node-head">
        <strong>{data.label}</strong>
        {data.start && <span className="badge">Start</span>}
      </div>
      <div className="muted small">{data.title}</div>
      {data.counts && <Figures counts={data.counts} />}
      {problems > 0 && (
        <div className="badge warn" title={data.problems.join("\n")}>
          {problems === 1 ? "1 problem" : `${problems} problems`}
        </div>
      )}
      {data.jumps && <Handle type="source" id={JUMP} position={Position.Bottom} isConnectable={false} />}
      {data.ports.length > 0 && (
        <div className="journey-ports">
          {data.ports.map((port) => (
            <div className="journey-port" key={port}>
              {port}
              {data.counts ? <span className="journey-count"> {data.counts.ports[port] ?? 0}</span> : null}
              <Handle type="source" id={port} position={Position.Bottom} isConnectable={!data.readOnly} />
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

/** A node's live figures: how many arrived, are there now, failed; the time spent there. */
function Figures({ counts }: { counts: NodeCounts }) {
  const time =
    counts.seconds_p50 === null || counts.seconds_p50 === undefined
      ? ""
      : ` · ${duration(counts.seconds_p50)} typical, ${duration(counts.seconds_p95 ?? counts.seconds_p50)} p95`;
  return (
    <div className="journey-figures small">
      {counts.entered.toLocaleString()} in · {counts.here.toLocaleString()} here
      {counts.errors ? <span className="journey-errors"> · {counts.errors.toLocaleString()} failed</span> : null}
      {time}
    </div>
  );
}

function duration(seconds: number): string {
  if (seconds < 1) return "<1 s";
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}
