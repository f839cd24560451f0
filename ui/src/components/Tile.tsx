// A figure with its label, as the overview's tiles show them.

export function Tile({ label, value, warn = false }: { label: string; value: number | string; warn?: boolean }) {
  return (
    <div className={warn ? "tile warn" : "tile"}>
      <div className="tile-value">{typeof value === "number" ? value.toLocaleString() : value}</div>
      <div className="tile-label">{label}</div>
    </div>
  );
}
