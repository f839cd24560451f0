// The rules as a form, for people who do not write JSON: per rule, when it applies (a field
// of the request compared with a value), the message type, its name, the fields it fills
// (each from a field, text with fields, fixed text or JSON, an expression), how duplicates are
// recognised, the event's time, and "one message per element of" a list. The server's
// problems show next to the field they name. After the rules, the optional transformation and
// verification reply (HookExtras).
import { useId } from "react";
import {
  blankRule,
  MESSAGE_TYPES,
  nameKey,
  type Rule,
  type RulesConfig,
  renamed,
  standardKeys,
  type ValueSource,
  withField,
} from "./ruleForm";
import { ReplyPart, TransformPart } from "./HookExtras";
import { ConditionPart, MessageIdPart, Problem, type Problems, TimestampPart, ValueCells } from "./RuleParts";

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
      <div className="row">
        <button type="button" onClick={() => setRules([...rules, blankRule()])}>
          Add a rule
        </button>
      </div>
      <TransformPart config={config} onChange={onChange} problems={problems} />
      <ReplyPart config={config} onChange={onChange} problems={problems} />
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
      <ConditionPart condition={rule.when ?? null} onChange={(when) => onChange({ ...rule, when: when as Rule["when"] })} />
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
            <th scope="col">If missing (optional)</th>
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
