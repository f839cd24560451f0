// A computed trait's definition: what to compute, over which events, in which window.
import { TRAIT_KINDS, type TraitForm, type TraitKind } from "./conditions";
import { EventFields, WindowInput } from "./fields";

export function TraitFields({ form, onChange }: { form: TraitForm; onChange: (form: TraitForm) => void }) {
  const setKind = (kind: TraitKind) => {
    const { property, ...rest } = form;
    onChange(kind === "counter" ? { ...rest, kind } : { ...rest, kind, property: property ?? "" });
  };
  return (
    <div className="rule-fields">
      <label>
        Compute
        <select aria-label="Compute" value={form.kind} onChange={(e) => setKind(e.target.value as TraitKind)}>
          {TRAIT_KINDS.map((k) => (
            <option key={k.name} value={k.name}>
              {k.label}
            </option>
          ))}
        </select>
      </label>
      {form.kind !== "counter" && (
        <label>
          Property
          <input value={form.property ?? ""} placeholder="total" onChange={(e) => onChange({ ...form, property: e.target.value })} />
        </label>
      )}
      <fieldset>
        <legend>Of the events</legend>
        <EventFields label="Events" spec={form} onChange={onChange} />
        <WindowInput
          label="Events: when"
          window={form.window}
          onChange={(window) => {
            const { window: _old, ...rest } = form;
            onChange(window === undefined ? rest : { ...rest, window });
          }}
        />
      </fieldset>
    </div>
  );
}
