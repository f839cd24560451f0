// How Headwater sends to a destination (not what the vendor needs): batching, pace, retries and
// the alert. Folded away: the defaults suit most destinations.
import { type DeliveryDraft, NUMBER_OPTIONS } from "./delivery";

export function DeliveryFields({ draft, onChange }: { draft: DeliveryDraft; onChange: (draft: DeliveryDraft) => void }) {
  return (
    <details>
      <summary>Delivery options</summary>
      <fieldset>
        <legend>Delivery</legend>
        {NUMBER_OPTIONS.map(({ key, label, help }) => (
          <div className="field" key={key}>
            <label>
              {label}
              <input
                type="number"
                min={0}
                step="any"
                value={draft[key]}
                aria-describedby={`delivery-${key}`}
                onChange={(e) => onChange({ ...draft, [key]: e.target.value })}
              />
            </label>
            <small id={`delivery-${key}`} className="muted">
              {help}
            </small>
          </div>
        ))}
        <label className="inline">
          <input type="checkbox" checked={draft.ordered} onChange={(e) => onChange({ ...draft, ordered: e.target.checked })} />
          Send each person's events one at a time, in the order received
        </label>
      </fieldset>
    </details>
  );
}
