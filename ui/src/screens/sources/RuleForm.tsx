// The rules as a form, for people who do not write JSON: per rule, when it applies (a field
// of the request compared with a value), the message type, its name, the fields it fills
// (each from a field, text with fields, fixed text or an expression), how duplicates are
// recognised, the event's time, and "one message per element of" a list. The server's
// problems show next to the field they name.
import { useId, useState } from "react";
import {
  blankRule,
  type Condition,
  conditionText,
  conditionValue,
  isSimple,
  KINDS,
  type Kind,
  kindOf,
  MESSAGE_TYPES,
  nameKey,
  OPERATORS,
  type Operator,
  type Rule,
  type RulesConfig,
  renamed,
  sourceOf,
  standardKeys,
  textOf,
  type ValueSource,
  withField,
} from "./ruleForm";

type Problems = Map<string, string[]>;

function Problem({ problems, at, id }: { problems: Problems; at: string; id?: string }) {
  const found = problems.get(at);
  if (!found) return null;
  return (
    <p className="error-text" id={id}>
      {found.join(" ")}
    </p>
  );
}

interface FormProps {
  config: RulesConfig;
  onChange: (config: RulesConfig) => void;
  problems: Problems;
  readOnly: boolean;
}

export function RulesForm({ config, onChange, problems, readOnly }: FormProps) {
  const rules = config.rules ?? [];
  const setRules = (next: Rule[]) => onChange({ ...config, rules: next });
  const change = (index: number, rule: Rule) => setRules(rules.map((r, i) => (i === index ? rule : r)));
  const move = (index: number, step: number) => {
    const next = [...rules];
    const [taken] = next.splice(index, 1);
    next.splice(index + step, 0, taken!);
    setRules(next);
  };
  return (
    <fieldset className="plain-fieldset" disabled={readOnly}>
      {rules.length === 0 ? (
        <div className="empty" aria-label="No rules yet">
          <h2>No rules yet</h2>
          <p>
            Requests to this source are recorded in Requests but make no message. Add a rule to say what a request
            becomes: for example a Track event named after a field of its body.
          </p>
        </div>
      ) : (
        <label className="inline">
          When several rules apply to a request
          <select
            value={config.match ?? "all"}
            onChange={(e) => onChange({ ...config, match: e.target.value as "all" | "first" })}
          >
            <option value="all">use every rule that applies</option>
            <option value="first">use only the first rule that applies</option>
          </select>
        </label>
      )}
      {rules.map((rule, index) => (
        <RuleCard
          key={index}
          index={index}
          count={rules.length}
          rule={rule}
          problems={problems}
          onChange={(next) => change(index, next)}
          onMove={(step) => move(index, step)}
          onRemove={() => setRules(rules.filter((_, i) => i !== index))}
        />
      ))}
      <Problem problems={problems} at="" />
      {(config.transform || config.reply) && (
        <p className="note">
          This source also has a {config.transform ? "transformation" : "verification reply"}; it is kept as it is. Edit
          it in the JSON view.
        </p>
      )}
      <div className="row">
        <button type="button" onClick={() => setRules([...rules, blankRule()])}>
          Add a rule
        </button>
      </div>
    </fieldset>
  );
}

interface RuleProps {
  index: number;
  count: number;
  rule: Rule;
  problems: Problems;
  onChange: (rule: Rule) => void;
  onMove: (step: number) => void;
  onRemove: () => void;
}

function RuleCard({ index, count, rule, problems, onChange, onMove, onRemove }: RuleProps) {
  const at = `rules.${index}`;
  const id = useId();
  const title = `Rule ${index + 1}`;
  const named = nameKey(rule.type);
  const set = rule.set ?? {};
  const shown = [...(named ? [named] : []), ...standardKeys(rule.type)];
  const others = Object.keys(set).filter((key) => !shown.includes(key));
  const field = (key: string, value: ValueSource | undefined) => onChange({ ...rule, set: withField(set, key, value) });
  return (
    <fieldset className="card rule-card" aria-label={title}>
      <legend>
        {title}
        {rule.name ? `: ${rule.name}` : ""}
      </legend>
      <Problem problems={problems} at={at} />
      <div className="row wrap">
        <label className="grow">
          Rule name (optional)
          <input value={rule.name ?? ""} onChange={(e) => onChange({ ...rule, name: e.target.value || null })} />
        </label>
        <label>
          Message type
          <select
            value={rule.type}
            aria-describedby={`${id}-type`}
            onChange={(e) => onChange({ ...rule, type: e.target.value as Rule["type"] })}
          >
            {MESSAGE_TYPES.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Problem problems={problems} at={`${at}.type`} id={`${id}-type`} />
      <ConditionPart condition={rule.when ?? null} onChange={(when) => onChange({ ...rule, when })} />
      <Problem problems={problems} at={`${at}.when`} />
      <label>
        One message per element of (optional)
        <input
          value={rule.each ?? ""}
          placeholder="body.events"
          aria-describedby={`${id}-each`}
          onChange={(e) => onChange({ ...rule, each: e.target.value || null })}
        />
        <small className="muted" id={`${id}-each`}>
          A list in the request; each element is then named <code>item</code> (for example <code>item.email</code>).
          Leave empty for one message per request.
        </small>
      </label>
      <Problem problems={problems} at={`${at}.each`} />
      <h3>Message fields</h3>
      <table className="properties rule-fields-table">
        <thead>
          <tr>
            <th scope="col">Field of the message</th>
            <th scope="col">Comes from</th>
            <th scope="col">Value</th>
            <th scope="col">
              <span className="sr-only">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {shown.map((key) => (
            <tr key={key}>
              <th scope="row">{key === "event" ? "Event name" : key === "name" ? "Page or screen name" : key}</th>
              <ValueCells
                label={key === "event" ? "Event name" : key === "name" ? "Page or screen name" : key}
                value={set[key]}
                onChange={(value) => field(key, value)}
                problems={problems}
                at={`${at}.set.${key}`}
              />
              <td />
            </tr>
          ))}
          {others.map((key, row) => (
            <tr key={row}>
              <td>
                <input
                  aria-label={`Field name, row ${row + 1}`}
                  value={key}
                  placeholder={rule.type === "identify" || rule.type === "group" ? "traits.email" : "properties.amount"}
                  onChange={(e) => onChange({ ...rule, set: renamed(set, key, e.target.value) })}
                />
              </td>
              <ValueCells
                label={key || `row ${row + 1}`}
                value={set[key]}
                onChange={(value) => field(key, value ?? "")}
                problems={problems}
                at={`${at}.set.${key}`}
              />
              <td>
                <button type="button" className="link danger" onClick={() => field(key, undefined)}>
                  Remove<span className="sr-only"> {key}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Problem problems={problems} at={`${at}.set`} />
      <div className="row">
        <button
          type="button"
          disabled={others.includes("")}
          title={others.includes("") ? "Name the new field first" : undefined}
          onClick={() => onChange({ ...rule, set: withField(set, "", "") })}
        >
          Add a field
        </button>
      </div>
      <MessageIdPart rule={rule} onChange={onChange} problems={problems} at={at} />
      <TimestampPart rule={rule} onChange={onChange} problems={problems} at={at} />
      <div className="row">
        <button type="button" disabled={index === 0} onClick={() => onMove(-1)}>
          Move up
        </button>
        <button type="button" disabled={index === count - 1} onClick={() => onMove(1)}>
          Move down
        </button>
        <button type="button" className="danger" onClick={onRemove}>
          Remove {title.toLowerCase()}
        </button>
      </div>
    </fieldset>
  );
}

interface ValueProps {
  label: string;
  value: ValueSource | undefined;
  onChange: (value: ValueSource | undefined) => void;
  problems: Problems;
  at: string;
}

/** Two cells: where the value comes from, and the path, template, text or expression. */
function ValueCells({ label, value, onChange, problems, at }: ValueProps) {
  const id = useId();
  const blank = value === undefined || value === "";
  const [chosen, setChosen] = useState<Kind>(blank ? "path" : kindOf(value));
  const kind = blank ? chosen : kindOf(value);
  const placeholder = KINDS.find((k) => k.value === kind)!.placeholder;
  const problem = problems.get(at);
  return (
    <>
      <td>
        <select
          aria-label={`${label}: comes from`}
          value={kind}
          onChange={(e) => {
            const next = e.target.value as Kind;
            setChosen(next);
            if (!blank) onChange(sourceOf(next, textOf(value), value));
          }}
        >
          {KINDS.map((k) => (
            <option key={k.value} value={k.value}>
              {k.label}
            </option>
          ))}
        </select>
      </td>
      <td>
        <input
          aria-label={label}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? id : undefined}
          value={blank ? "" : textOf(value)}
          placeholder={placeholder}
          onChange={(e) => onChange(sourceOf(kind, e.target.value, value))}
        />
        <Problem problems={problems} at={at} id={id} />
      </td>
    </>
  );
}

function ConditionPart({ condition, onChange }: { condition: Condition | null; onChange: (c: Condition | null) => void }) {
  if (!isSimple(condition)) {
    return (
      <p className="note">
        This rule applies when several conditions combine; the form keeps them as they are. Edit them in the JSON view.
      </p>
    );
  }
  const op: Operator = condition?.op ?? "eq";
  const needsValue = op !== "exists" && op !== "missing";
  return (
    <div className="row wrap rule-when">
      <label>
        Applies to
        <select
          value={condition ? "when" : "always"}
          onChange={(e) => onChange(e.target.value === "always" ? null : { path: "body.type", op: "eq", value: "" })}
        >
          <option value="always">every request</option>
          <option value="when">requests where a field…</option>
        </select>
      </label>
      {condition && (
        <>
          <label>
            Field
            <input
              value={condition.path ?? ""}
              placeholder="body.type"
              onChange={(e) => onChange({ ...condition, path: e.target.value })}
            />
          </label>
          <label>
            Test
            <select
              value={op}
              onChange={(e) => {
                const next = e.target.value as Operator;
                onChange({ ...condition, op: next, value: conditionValue(next, conditionText(condition), condition.value) });
              }}
            >
              {OPERATORS.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
          {needsValue && (
            <label>
              Value
              <input
                value={conditionText(condition)}
                onChange={(e) => onChange({ ...condition, value: conditionValue(op, e.target.value, condition.value) })}
              />
            </label>
          )}
        </>
      )}
    </div>
  );
}

interface PartProps {
  rule: Rule;
  onChange: (rule: Rule) => void;
  problems: Problems;
  at: string;
}

function MessageIdPart({ rule, onChange, problems, at }: PartProps) {
  const hashed = rule.message_id === undefined || rule.message_id === "hash";
  return (
    <div className="form-part">
      <label className="inline">
        Message id (how a resent request is recognised)
        <select
          value={hashed ? "hash" : "value"}
          onChange={(e) => onChange({ ...rule, message_id: e.target.value === "hash" ? "hash" : "" })}
        >
          <option value="hash">made from the request’s body</option>
          <option value="value">taken from the request</option>
        </select>
      </label>
      {!hashed && (
        <table className="properties rule-fields-table">
          <tbody>
            <tr>
              <th scope="row">messageId</th>
              <ValueCells
                label="Message id"
                value={rule.message_id === "" ? undefined : (rule.message_id as ValueSource)}
                onChange={(value) => onChange({ ...rule, message_id: value ?? "" })}
                problems={problems}
                at={`${at}.message_id`}
              />
            </tr>
          </tbody>
        </table>
      )}
    </div>
  );
}

function TimestampPart({ rule, onChange, problems, at }: PartProps) {
  const spec = rule.timestamp ?? null;
  return (
    <div className="form-part row wrap">
      <label>
        Time of the message
        <select
          value={spec ? "field" : "received"}
          onChange={(e) =>
            onChange({ ...rule, timestamp: e.target.value === "field" ? { path: "", format: "iso8601" } : null })
          }
        >
          <option value="received">when Headwater receives it</option>
          <option value="field">from a field of the request</option>
        </select>
      </label>
      {spec && (
        <>
          <label>
            Time field
            <input
              value={spec.path}
              placeholder="body.created_at"
              onChange={(e) => onChange({ ...rule, timestamp: { ...spec, path: e.target.value } })}
            />
          </label>
          <label>
            Written as
            <select
              value={spec.format ?? "iso8601"}
              onChange={(e) =>
                onChange({ ...rule, timestamp: { ...spec, format: e.target.value as "iso8601" | "unix_seconds" | "unix_ms" } })
              }
            >
              <option value="iso8601">a date and time (ISO 8601)</option>
              <option value="unix_seconds">seconds since 1970</option>
              <option value="unix_ms">milliseconds since 1970</option>
            </select>
          </label>
        </>
      )}
      <Problem problems={problems} at={`${at}.timestamp`} />
      <Problem problems={problems} at={`${at}.timestamp.path`} />
    </div>
  );
}
