// Which events a destination is sent: the common filters as plain controls, or the whole filter
// list as JSON (any condition the API takes). The plain controls are offered while the list is
// one they can say exactly; the API checks the JSON and names what is wrong on save.
import { useId, useState } from "react";
import { EVENT_TYPES, type Filter, type Plain, toFilters, toPlain } from "./filters";

interface Props {
  filters: Filter[];
  /** The filter list, or null while the JSON typed is not a list. */
  onChange: (filters: Filter[] | null) => void;
}

export function FilterEditor({ filters, onChange }: Props) {
  const [plain, setPlain] = useState<Plain | null>(() => toPlain(filters));
  const [text, setText] = useState<string | null>(() => (toPlain(filters) ? null : JSON.stringify(filters, null, 2)));
  const changePlain = (next: Plain) => {
    setPlain(next);
    onChange(toFilters(next));
  };
  const changeText = (next: string) => {
    setText(next);
    onChange(parsed(next));
  };
  const toJson = () => setText(JSON.stringify(plain ? toFilters(plain) : filters, null, 2));
  const list = text === null ? null : parsed(text);
  const readable = list !== null && toPlain(list) !== null;
  const toPlainForm = () => {
    const read = list && toPlain(list);
    if (!read) return;
    setText(null);
    setPlain(read);
  };
  return (
    <fieldset>
      <legend>Which events are sent</legend>
      {text === null && plain ? (
        <>
          <PlainFilters plain={plain} onChange={changePlain} />
          <button type="button" onClick={toJson}>
            Edit the filters as JSON
          </button>
        </>
      ) : (
        <JsonFilters text={text ?? "[]"} onChange={changeText} readable={readable} onPlain={toPlainForm} />
      )}
    </fieldset>
  );
}

function parsed(text: string): Filter[] | null {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? (value as Filter[]) : null;
  } catch {
    return null;
  }
}

/** Names one a line, blank lines left out. */
function lines(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

function PlainFilters({ plain, onChange }: { plain: Plain; onChange: (plain: Plain) => void }) {
  const set = (change: Partial<Plain>) => onChange({ ...plain, ...change });
  const toggle = (type: string, on: boolean) =>
    set({ types: on ? EVENT_TYPES.filter((t) => t === type || plain.types.includes(t)) : plain.types.filter((t) => t !== type) });
  return (
    <>
      <fieldset className="pairs">
        <legend>Types of message</legend>
        <div className="row wrap">
          {EVENT_TYPES.map((type) => (
            <label key={type} className="inline">
              <input type="checkbox" checked={plain.types.includes(type)} onChange={(e) => toggle(type, e.target.checked)} />
              {type}
            </label>
          ))}
        </div>
      </fieldset>
      <Lines
        label="Only these track events"
        help="One event name a line, for example Order Completed. Empty: every track event. Identify, page and the other types are not affected."
        value={plain.only}
        onChange={(only) => set({ only })}
      />
      <Lines
        label="Never these track events"
        help="One event name a line. Empty: none is left out."
        value={plain.never}
        onChange={(never) => set({ never })}
      />
      <Lines
        label="Remove these fields before sending"
        help="One field a line, as a path into the event, for example properties.email or context.ip."
        value={plain.removed}
        onChange={(removed) => set({ removed })}
      />
      <Sample percent={plain.percent} onChange={(percent) => set({ percent })} />
    </>
  );
}

function Lines({ label, help, value, onChange }: { label: string; help: string; value: string[]; onChange: (v: string[]) => void }) {
  const helpId = useId();
  // the text as typed (a trailing new line included); the names are what it says
  const [text, setText] = useState(value.join("\n"));
  return (
    <div className="field">
      <label>
        {label}
        <textarea
          rows={3}
          value={text}
          aria-describedby={helpId}
          onChange={(e) => {
            setText(e.target.value);
            onChange(lines(e.target.value));
          }}
        />
      </label>
      <small id={helpId} className="muted">
        {help}
      </small>
    </div>
  );
}

function Sample({ percent, onChange }: { percent: number | null; onChange: (percent: number | null) => void }) {
  const helpId = useId();
  return (
    <div className="field">
      <label>
        Send only this share of events (%)
        <input
          type="number"
          min={0}
          max={100}
          step="any"
          value={percent ?? ""}
          aria-describedby={helpId}
          onChange={(e) => onChange(e.target.value === "" ? null : Number(e.target.value))}
        />
      </label>
      <small id={helpId} className="muted">
        Empty: every event. The same events are chosen on every retry.
      </small>
    </div>
  );
}

interface JsonProps {
  text: string;
  onChange: (text: string) => void;
  readable: boolean;
  onPlain: () => void;
}

function JsonFilters({ text, onChange, readable, onPlain }: JsonProps) {
  const helpId = useId();
  const invalid = parsed(text) === null;
  return (
    <>
      <label>
        Filters as JSON
        <textarea
          className="code"
          rows={10}
          spellCheck={false}
          value={text}
          aria-invalid={invalid}
          aria-describedby={helpId}
          onChange={(e) => onChange(e.target.value)}
        />
      </label>
      <small id={helpId} className={invalid ? "error-text" : "muted"}>
        {invalid
          ? "This is not a JSON list yet: it starts with [ and ends with ]. The destination cannot be saved until it is."
          : "A list of filters, applied in order: sample, drop or only (with a condition), drop_properties, allow_properties. See the destinations guide."}
      </small>
      {readable && (
        <p>
          <button type="button" onClick={onPlain}>
            Edit with the simple form
          </button>
        </p>
      )}
    </>
  );
}
