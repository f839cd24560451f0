// Small editors the condition builder and the computed-trait form share: a compared value,
// a time window, property filters and "which events".
import { type EventSpec, type EventType, OPERATORS, type Operator, type PropertyFilter, type Scalar, takes, type Window } from "./conditions";

type Typed = "text" | "number" | "boolean";

function typeOf(value: unknown): Typed {
  return typeof value === "number" ? "number" : typeof value === "boolean" ? "boolean" : "text";
}

function cast(text: string, as: Typed): Scalar {
  if (as === "number") return text.trim() === "" || Number.isNaN(Number(text)) ? text : Number(text);
  if (as === "boolean") return text === "true";
  return text;
}

/** The value an operator compares with, typed as the language wants ("5" is not 5). */
export function ValueInput({
  operator,
  value,
  onChange,
  label,
}: {
  operator: Operator;
  value: Scalar | Scalar[] | undefined;
  onChange: (value: Scalar | Scalar[] | undefined) => void;
  label: string;
}) {
  const kind = takes(operator);
  if (kind === "none") return null;
  if (kind === "number" || kind === "days") {
    return (
      <input
        type="number"
        aria-label={label}
        value={typeof value === "number" ? value : ""}
        min={kind === "days" ? 1 : undefined}
        step={kind === "days" ? 1 : "any"}
        onChange={(e) => onChange(e.target.value === "" ? undefined : Number(e.target.value))}
      />
    );
  }
  if (kind === "text" || kind === "date") {
    return (
      <input
        aria-label={label}
        value={typeof value === "string" ? value : ""}
        placeholder={kind === "date" ? "2026-03-01" : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }
  const list = kind === "list";
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  const as = typeOf(items[0] ?? "");
  const text = items.map(String).join(", ");
  const change = (next: string, to: Typed) => {
    const parts = list ? next.split(",").map((p) => p.trim()).filter((p) => p !== "") : [next];
    const typed = parts.map((p) => cast(p, to));
    onChange(list ? typed : (typed[0] ?? ""));
  };
  return (
    <span className="value-input">
      <select aria-label={`${label}: type`} value={as} onChange={(e) => change(text, e.target.value as Typed)}>
        <option value="text">text</option>
        <option value="number">number</option>
        <option value="boolean">true or false</option>
      </select>
      {as === "boolean" && !list ? (
        <select aria-label={label} value={String(value === true)} onChange={(e) => change(e.target.value, as)}>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      ) : (
        <input
          aria-label={list ? `${label} (separated by commas)` : label}
          defaultValue={text}
          key={`${as}:${text}`}
          onBlur={(e) => change(e.target.value, as)}
        />
      )}
    </span>
  );
}

/** Any time, the last N days, or from M to N days ago. */
export function WindowInput({
  window,
  onChange,
  label = "When",
}: {
  window: Window | undefined;
  onChange: (window: Window | undefined) => void;
  label?: string;
}) {
  const mode = window?.between_days ? "between" : window?.within_days !== undefined ? "within" : "any";
  const choose = (next: string) =>
    onChange(next === "within" ? { within_days: 30 } : next === "between" ? { between_days: [30, 90] } : undefined);
  const number = (n: string) => Math.max(0, Math.trunc(Number(n)));
  return (
    <span className="value-input">
      <select aria-label={label} value={mode} onChange={(e) => choose(e.target.value)}>
        <option value="any">at any time</option>
        <option value="within">in the last … days</option>
        <option value="between">between … and … days ago</option>
      </select>
      {window?.within_days !== undefined && (
        <input
          type="number"
          min={1}
          aria-label={`${label}: days`}
          value={window.within_days}
          onChange={(e) => onChange({ within_days: number(e.target.value) })}
        />
      )}
      {window?.between_days && (
        <>
          <input
            type="number"
            min={0}
            aria-label={`${label}: from (days ago, nearest)`}
            value={window.between_days[0]}
            onChange={(e) => onChange({ between_days: [number(e.target.value), window.between_days![1]] })}
          />
          <input
            type="number"
            min={1}
            aria-label={`${label}: to (days ago, farthest)`}
            value={window.between_days[1]}
            onChange={(e) => onChange({ between_days: [window.between_days![0], number(e.target.value)] })}
          />
        </>
      )}
    </span>
  );
}

/** Property filters of an event, all of which must hold. */
export function WhereList({
  where,
  onChange,
  label,
}: {
  where: PropertyFilter[] | undefined;
  onChange: (where: PropertyFilter[]) => void;
  label: string;
}) {
  const rows = where ?? [];
  const set = (index: number, filter: PropertyFilter) => onChange(rows.map((f, i) => (i === index ? filter : f)));
  return (
    <div className="where">
      {rows.map((filter, index) => {
        const name = `${label}, filter ${index + 1}`;
        return (
          <div key={index} className="value-input">
            <span className="muted">where</span>
            <input
              aria-label={`${name}: property`}
              value={filter.property}
              placeholder="total"
              onChange={(e) => set(index, { ...filter, property: e.target.value })}
            />
            <OperatorSelect
              label={`${name}: comparison`}
              operator={filter.operator}
              onChange={(operator) => set(index, refit({ ...filter, operator }))}
            />
            <ValueInput
              label={`${name}: value`}
              operator={filter.operator}
              value={filter.value}
              onChange={(value) => set(index, withValue(filter, value))}
            />
            <button type="button" aria-label={`Remove ${name}`} onClick={() => onChange(rows.filter((_, i) => i !== index))}>
              ×
            </button>
          </div>
        );
      })}
      <button
        type="button"
        className="link"
        onClick={() => onChange([...rows, { property: "", operator: "equals", value: "" }])}
      >
        + Property filter<span className="sr-only"> ({label})</span>
      </button>
    </div>
  );
}

function withValue(filter: PropertyFilter, value: Scalar | Scalar[] | undefined): PropertyFilter {
  const { value: _old, ...rest } = filter;
  return value === undefined ? rest : { ...rest, value };
}

/** A filter whose operator changed keeps its value only where the new operator takes one alike. */
function refit(filter: PropertyFilter): PropertyFilter {
  const kind = takes(filter.operator);
  const value = filter.value;
  if (kind === "none") return withValue(filter, undefined);
  if (kind === "list") return withValue(filter, Array.isArray(value) ? value : value === undefined ? [] : [value]);
  const one = Array.isArray(value) ? value[0] : value;
  if ((kind === "number" || kind === "days") && typeof one !== "number") return withValue(filter, undefined);
  if ((kind === "text" || kind === "date") && typeof one !== "string") return withValue(filter, "");
  return withValue(filter, one ?? "");
}

export function OperatorSelect({
  operator,
  onChange,
  label,
}: {
  operator: Operator;
  onChange: (operator: Operator) => void;
  label: string;
}) {
  return (
    <select aria-label={label} value={operator} onChange={(e) => onChange(e.target.value as Operator)}>
      {OPERATORS.map((o) => (
        <option key={o.name} value={o.name}>
          {o.label}
        </option>
      ))}
    </select>
  );
}

const EVENT_TYPES: { name: EventType; label: string }[] = [
  { name: "track", label: "an event" },
  { name: "page", label: "a page view" },
  { name: "screen", label: "a screen view" },
  { name: "identify", label: "an identify call" },
  { name: "group", label: "a group call" },
];

/** Which events: a type, a name (where the type has names) and property filters. */
export function EventFields<T extends EventSpec>({
  spec,
  onChange,
  label,
}: {
  spec: T;
  onChange: (spec: T) => void;
  label: string;
}) {
  const type = spec.event_type ?? "track";
  const named = type === "track" || type === "page" || type === "screen";
  const setType = (next: EventType) => {
    const { event, event_type: _type, ...rest } = spec;
    const keepName = next === "track" || next === "page" || next === "screen";
    onChange({ ...rest, event_type: next, ...(keepName ? { event: event ?? "" } : {}) } as T);
  };
  const setName = (name: string) => {
    const { event: _event, ...rest } = spec;
    // a page or screen without a name means any page or screen
    onChange((name === "" && type !== "track" ? rest : { ...rest, event: name }) as T);
  };
  return (
    <div className="event-fields">
      <span className="value-input">
        <select aria-label={`${label}: kind`} value={type} onChange={(e) => setType(e.target.value as EventType)}>
          {EVENT_TYPES.map((t) => (
            <option key={t.name} value={t.name}>
              {t.label}
            </option>
          ))}
        </select>
        {named && (
          <input
            aria-label={`${label}: name`}
            value={spec.event ?? ""}
            placeholder={type === "track" ? "Order Completed" : "any"}
            onChange={(e) => setName(e.target.value)}
          />
        )}
      </span>
      <WhereList label={label} where={spec.where} onChange={(where) => onChange({ ...spec, where })} />
    </div>
  );
}
