// The node types to add, grouped by family: each is a button (click, or Enter, adds the node)
// that can also be dragged onto the canvas.
import type { NodeType } from "./calls";
import { PALETTE_DRAG } from "./Canvas";

const FAMILIES: { family: NodeType["family"]; title: string }[] = [
  { family: "wait", title: "Wait" },
  { family: "flow", title: "Flow" },
  { family: "action", title: "Actions" },
];

export function Palette({ types, onAdd }: { types: NodeType[]; onAdd: (type: string) => void }) {
  return (
    <nav className="journey-palette" aria-label="Add a node">
      <h2>Add a node</h2>
      <p className="muted small">Choose a step to add it, or drag it onto the canvas.</p>
      {FAMILIES.map(({ family, title }) => (
        <div key={family} role="group" aria-label={title}>
          <h3>{title}</h3>
          {types
            .filter((t) => t.family === family)
            .map((t) => (
              <button
                key={t.type}
                type="button"
                draggable
                onDragStart={(e) => e.dataTransfer.setData(PALETTE_DRAG, t.type)}
                onClick={() => onAdd(t.type)}
              >
                {t.title}
              </button>
            ))}
        </div>
      ))}
    </nav>
  );
}
