// An editable list of key → value rows (identifier types and their limits, traits and types).
import { useId } from "react";

interface Props {
  label: string;
  keyLabel: string;
  valueLabel: string;
  pairs: [string, string][];
  onChange: (pairs: [string, string][]) => void;
}

export function Pairs({ label, keyLabel, valueLabel, pairs, onChange }: Props) {
  const id = useId();
  const set = (index: number, pair: [string, string]) => onChange(pairs.map((p, i) => (i === index ? pair : p)));
  return (
    <fieldset className="pairs">
      <legend id={id}>{label}</legend>
      {pairs.length === 0 && <p className="muted">None.</p>}
      {pairs.map(([key, value], index) => (
        <div className="row" key={index}>
          <input aria-label={`${keyLabel} ${index + 1}`} value={key} onChange={(e) => set(index, [e.target.value, value])} />
          <input aria-label={`${valueLabel} of ${key || `row ${index + 1}`}`} value={value} onChange={(e) => set(index, [key, e.target.value])} />
          <button type="button" aria-label={`Remove ${key || `row ${index + 1}`}`} onClick={() => onChange(pairs.filter((_, i) => i !== index))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...pairs, ["", ""]])}>
        Add a row
      </button>
    </fieldset>
  );
}
