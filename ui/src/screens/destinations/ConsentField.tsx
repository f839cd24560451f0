// The consent categories a destination needs: the connector's own, or those chosen here.
import { useId, useState } from "react";

interface Props {
  /** The categories chosen; null: the connector's defaults. */
  value: string[] | null;
  defaults: string[];
  /** Categories worth offering: every connector's, and any already chosen. */
  known: string[];
  onChange: (value: string[] | null) => void;
}

export function ConsentField({ value, defaults, known, onChange }: Props) {
  const [another, setAnother] = useState("");
  const group = useId();
  const offered = [...new Set([...known, ...(value ?? [])])].sort();
  const chosen = value ?? [];
  const toggle = (category: string, on: boolean) =>
    onChange(on ? [...chosen, category] : chosen.filter((other) => other !== category));
  const add = () => {
    const name = another.trim();
    if (name && !chosen.includes(name)) onChange([...chosen, name]);
    setAnother("");
  };
  return (
    <fieldset>
      <legend>Consent</legend>
      <p className="small muted">
        An event that carries the person's consent choices is sent only if they agreed to every category needed here.
        Events without consent choices are sent.
      </p>
      <label className="inline">
        <input type="radio" name={group} checked={value === null} onChange={() => onChange(null)} />
        What this kind of destination needs: {defaults.length ? defaults.join(", ") : "no category"}
      </label>
      <label className="inline">
        <input type="radio" name={group} checked={value !== null} onChange={() => onChange([...defaults])} />
        The categories ticked below (none ticked: no consent needed)
      </label>
      {value !== null && (
        <>
          <div className="row wrap checks" role="group" aria-label="Consent categories needed">
            {offered.map((category) => (
              <label key={category} className="inline">
                <input type="checkbox" checked={chosen.includes(category)} onChange={(e) => toggle(category, e.target.checked)} />
                {category}
              </label>
            ))}
          </div>
          <div className="row">
            <input
              aria-label="Another category"
              placeholder="Another category"
              value={another}
              onChange={(e) => setAnother(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter") {
                  e.preventDefault(); // add the category, do not submit the form
                  add();
                }
              }}
            />
            <button type="button" onClick={add} disabled={!another.trim()}>
              Add category
            </button>
          </div>
        </>
      )}
    </fieldset>
  );
}
