// The journey's own settings (shown when no node is selected): what starts it, who may enter
// again, which events end it, and the goal it counts. Events (the trigger's, exit rules', the
// goal's) are edited as in the audience condition builder: kind, name and property filters.
import { useEffect, useState } from "react";
import type { EventSpec } from "../audiences/conditions";
import { EventFields } from "../audiences/fields";
import type { Document } from "./graph";

type Values = Record<string, unknown>;

const TRIGGERS: { type: string; label: string; starter: Values }[] = [
  { type: "event", label: "Someone sends an event", starter: { event: "" } },
  { type: "audience_entered", label: "Someone enters an audience", starter: { audience: "" } },
  { type: "audience_exited", label: "Someone leaves an audience", starter: { audience: "" } },
  { type: "schedule", label: "On a schedule, for an audience", starter: { audience: "", every: { days: 1 } } },
  { type: "manual", label: "Someone starts it by hand", starter: {} },
];

const ENTRIES = [
  { mode: "once", label: "Once per person, ever" },
  { mode: "every_time", label: "Every time the trigger fires" },
  { mode: "cooldown", label: "Again after a cooldown" },
];

interface Props {
  document: Document;
  onChange: (document: Document) => void;
  readOnly: boolean;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function days(value: unknown): string {
  const span = value as { days?: number } | undefined;
  return span?.days === undefined ? "" : String(span.days);
}

function optional(values: Values, name: string, value: string): Values {
  const next = { ...values };
  if (value === "") delete next[name];
  else next[name] = value;
  return next;
}

export function JourneySettings({ document, onChange, readOnly }: Props) {
  const trigger = document.trigger;
  const entry = (document.entry ?? { mode: "once" }) as Values;
  const exits = document.exits ?? [];
  const goal = document.goal ?? null;
  const setTrigger = (values: Values) => onChange({ ...document, trigger: { ...values, type: trigger.type } });
  const setEntry = (values: Values) => onChange({ ...document, entry: values });
  const setExits = (values: Values[]) => onChange({ ...document, exits: values });
  return (
    <fieldset disabled={readOnly} className="journey-settings">
      <legend>The journey</legend>
      <label>
        Starts when
        <select
          value={trigger.type}
          onChange={(e) => {
            const chosen = TRIGGERS.find((t) => t.type === e.target.value);
            if (chosen) onChange({ ...document, trigger: { type: chosen.type, ...chosen.starter } });
          }}
        >
          {TRIGGERS.map((t) => (
            <option key={t.type} value={t.type}>
              {t.label}
            </option>
          ))}
        </select>
      </label>
      {trigger.type === "event" && (
        <>
          <fieldset>
            <legend>Trigger event</legend>
            <EventFields label="Trigger event" spec={trigger as EventSpec} onChange={(spec) => setTrigger(spec as Values)} />
          </fieldset>
          <label>
            Only for members of the audience (its key, optional)
            <input value={text(trigger.audience)} onChange={(e) => setTrigger(optional(trigger, "audience", e.target.value))} />
          </label>
        </>
      )}
      {trigger.type !== "event" && trigger.type !== "manual" && (
        <label>
          Audience (its key)
          <input value={text(trigger.audience)} onChange={(e) => setTrigger({ ...trigger, audience: e.target.value })} />
        </label>
      )}
      {trigger.type === "schedule" && (
        <label>
          Every how many days
          <input
            type="number"
            min={1}
            value={days(trigger.every)}
            onChange={(e) => setTrigger({ ...trigger, every: { days: Number(e.target.value) } })}
          />
        </label>
      )}
      <label>
        Who may enter again
        <select
          value={text(entry.mode) || "once"}
          onChange={(e) => {
            const { cooldown: _dropped, ...rest } = entry;
            setEntry(e.target.value === "cooldown" ? { ...rest, mode: "cooldown", cooldown: { days: 7 } } : { ...rest, mode: e.target.value });
          }}
        >
          {ENTRIES.map((m) => (
            <option key={m.mode} value={m.mode}>
              {m.label}
            </option>
          ))}
        </select>
      </label>
      {entry.mode === "cooldown" && (
        <label>
          Cooldown in days
          <input
            type="number"
            min={1}
            value={days(entry.cooldown)}
            onChange={(e) => setEntry({ ...entry, cooldown: { days: Number(e.target.value) } })}
          />
        </label>
      )}
      <ConsentInput
        categories={Array.isArray(entry.consent) ? (entry.consent as string[]) : []}
        readOnly={readOnly}
        onChange={(categories) => {
          const { consent: _dropped, ...rest } = entry;
          setEntry(categories.length ? { ...rest, consent: categories } : rest);
        }}
      />
      <fieldset>
        <legend>Exit when the person sends</legend>
        {exits.map((rule, index) => (
          <div className="list-item" key={index}>
            <EventFields
              label={`Exit event ${index + 1}`}
              spec={rule as EventSpec}
              onChange={(spec) => setExits(exits.map((old, i) => (i === index ? (spec as Values) : old)))}
            />
            {!readOnly && (
              <button type="button" onClick={() => setExits(exits.filter((_, i) => i !== index))}>
                Remove exit event {index + 1}
              </button>
            )}
          </div>
        ))}
        {!readOnly && (
          <button type="button" onClick={() => setExits([...exits, { event: "" }])}>
            Add an exit event
          </button>
        )}
      </fieldset>
      <fieldset>
        <legend>Goal</legend>
        <label className="inline">
          <input
            type="checkbox"
            checked={goal !== null}
            onChange={(e) => onChange({ ...document, goal: e.target.checked ? { event: "", within: { days: 14 } } : null })}
          />
          Count a conversion
        </label>
        {goal && (
          <>
            <EventFields
              label="Goal event"
              spec={goal as EventSpec}
              onChange={(spec) => onChange({ ...document, goal: { ...(spec as Values), within: goal.within } })}
            />
            <label>
              Within how many days of entering
              <input
                type="number"
                min={1}
                value={days(goal.within)}
                onChange={(e) => onChange({ ...document, goal: { ...goal, within: { days: Number(e.target.value) } } })}
              />
            </label>
          </>
        )}
      </fieldset>
    </fieldset>
  );
}

/** The consent categories a person must have granted to enter (and keep, to go on): typed as
 * a comma-separated list, kept as typed while editing so that a trailing comma survives. */
function ConsentInput({ categories, readOnly, onChange }: { categories: string[]; readOnly: boolean; onChange: (c: string[]) => void }) {
  const [typed, setTyped] = useState(categories.join(", "));
  const parsed = (value: string) =>
    value
      .split(",")
      .map((c) => c.trim())
      .filter(Boolean);
  useEffect(() => {
    if (parsed(typed).join("\u0000") !== categories.join("\u0000")) setTyped(categories.join(", "));
    // only a change from outside (undo, another version) redraws what was typed
  }, [categories.join("\u0000")]);
  return (
    <label>
      Only people who consented to
      <input
        value={typed}
        readOnly={readOnly}
        placeholder="consent categories, separated by commas (e.g. Marketing, Email)"
        onChange={(e) => {
          setTyped(e.target.value);
          onChange(parsed(e.target.value));
        }}
      />
      <small>
        Leave empty to let everyone in. With categories, people enter only if their latest consent preferences grant every
        one, and leave the journey at their next step once they withdraw any.
      </small>
    </label>
  );
}
