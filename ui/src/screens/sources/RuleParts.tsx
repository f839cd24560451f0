// The parts of a rule in the rules form: where a value comes from, when the rule applies, the
// message id and the message's time; and a problem the server found, shown at its field.
import { useId, useState } from "react";
import {
  blankCondition,
  canMiss,
  comparedOf,
  comparison,
  type Condition,
  conditionText,
  defaultText,
  isComparison,
  isJsonOf,
  JOININGS,
  joined,
  joiningOf,
  KINDS,
  type Kind,
  kindOf,
  partsOf,
  type Rule,
  simplified,
  sourceOf,
  type Test,
  TESTS,
  testOf,
  textOf,
  type ValueSource,
  withDefault,
} from "./ruleForm";

export type Problems = Map<string, string[]>;

export function Problem({ problems, at, id }: { problems: Problems; at: string; id?: string }) {
  const found = problems.get(at);
  if (!found) return null;
  return (
    <p className="error-text" id={id}>
      {found.join(" ")}
    </p>
  );
}

interface ValueProps {
  label: string;
  value: ValueSource | undefined;
  onChange: (value: ValueSource | undefined) => void;
  problems: Problems;
  at: string;
}

/** Three cells: where the value comes from; the path, template, text, JSON or expression; and
 *  what to use when it is missing (for a field of the request or an expression). */
export function ValueCells({ label, value, onChange, problems, at }: ValueProps) {
  const id = useId();
  const blank = value === undefined || value === "";
  const [chosen, setChosen] = useState<Kind>(blank ? "path" : kindOf(value));
  // A fixed JSON value's text as typed: shown while it is not JSON yet (the value before it
  // kept), or while it is the value's JSON spaced its own way.
  const [draft, setDraft] = useState<string | null>(null);
  const fixed = typeof value === "object" && "const" in value ? value.const : undefined;
  const unparsed = draft !== null && sourceOf("json", draft) === null;
  const drafting = draft !== null && (unparsed || (!blank && isJsonOf(draft, fixed)));
  const kind = drafting ? "json" : blank ? chosen : kindOf(value);
  const text = drafting ? draft : blank ? "" : textOf(value);
  const placeholder = KINDS.find((k) => k.value === kind)!.placeholder;
  const problem = problems.get(at);
  const change = (nextKind: Kind, nextText: string) => {
    const next = sourceOf(nextKind, nextText, value);
    setDraft(nextKind === "json" ? nextText : null);
    if (next !== null) onChange(next);
  };
  return (
    <>
      <td>
        <select
          aria-label={`${label}: comes from`}
          value={kind}
          onChange={(e) => {
            const next = e.target.value as Kind;
            setChosen(next);
            if (!blank || drafting) change(next, text);
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
          aria-invalid={problem || unparsed ? true : undefined}
          aria-describedby={problem || unparsed ? id : undefined}
          value={text}
          placeholder={placeholder}
          onChange={(e) => change(kind, e.target.value)}
        />
        {unparsed ? (
          <p className="error-text" id={id}>
            This is not a number, list or object yet: write 42, true, ["vip", "eu"] or {'{"tier": 2}'}. Until it
            is, the value before it is kept.
          </p>
        ) : (
          <Problem problems={problems} at={at} id={id} />
        )}
      </td>
      <td>
        {value !== undefined && !blank && canMiss(kind) && (
          <input
            aria-label={`${label}: if missing`}
            value={defaultText(value)}
            placeholder="nothing"
            onChange={(e) => onChange(withDefault(value, e.target.value))}
          />
        )}
      </td>
    </>
  );
}

interface ConditionProps {
  condition: Condition | null;
  onChange: (c: Condition | null) => void;
  /** What the joining's choice is called (default "Applies to"). */
  label?: string;
  /** A condition is needed: "every request" is not offered. */
  required?: boolean;
}

export function ConditionPart({ condition, onChange, label = "Applies to", required = false }: ConditionProps) {
  const shown = condition && simplified(condition);
  const joining = joiningOf(shown);
  if (joining === "other") {
    return (
      <p className="note">
        These conditions have a shape the form does not show; it keeps them as they are. Edit them in the JSON view.
      </p>
    );
  }
  const parts = partsOf(shown);
  const several = joining !== "always" && joining !== "one";
  return (
    <div className="rule-when">
      <label>
        {label}
        <select value={joining} onChange={(e) => onChange(joined(e.target.value as typeof joining, parts))}>
          {JOININGS.filter((j) => !required || j.value !== "always").map((j) => (
            <option key={j.value} value={j.value}>
              {j.label}
            </option>
          ))}
        </select>
      </label>
      {joining === "one" && (
        <div className="row wrap">
          <Comparison
            condition={parts[0] ?? blankCondition()}
            suffix=""
            onChange={(part) => onChange(joined(joining, [part]))}
          />
        </div>
      )}
      {several && <ConditionList parts={parts} name="" onChange={(next) => onChange(joined(joining, next))} />}
    </div>
  );
}

/** How deep groups can be added from the form (deeper ones, written as JSON, are shown). */
const GROUP_DEPTH = 2;

type GroupJoining = "all" | "any" | "none" | "notall";

/** A group's joinings: a list's, without "requests where" (a group's label says it). */
const GROUP_JOININGS = JOININGS.filter((j): j is { value: GroupJoining; label: string } => j.value !== "always" && j.value !== "one").map(
  (j) => ({ ...j, label: j.label.replace(/^requests where /, "") }),
);

/** The parts of a list, each a comparison or a group of them; ``name`` is the group's number
 *  ("" for the rule's own list, "2" for its second part, "2.1" inside it), which numbers the
 *  parts' labels ("condition 2.1"). */
function ConditionList({ parts, name, onChange }: { parts: Condition[]; name: string; onChange: (parts: Condition[]) => void }) {
  const depth = name === "" ? 0 : name.split(".").length;
  const to = name === "" ? "" : ` to group ${name}`;
  const setPart = (index: number, part: Condition) => onChange(parts.map((p, i) => (i === index ? part : p)));
  return (
    <ol className="conditions" aria-label={name === "" ? "Conditions" : `Conditions of group ${name}`}>
      {parts.map((part, index) => {
        const numbered = name === "" ? `${index + 1}` : `${name}.${index + 1}`;
        const group = !isComparison(part);
        return (
          <li key={index} className={group ? undefined : "row wrap"}>
            {group ? (
              <GroupPart group={part} name={numbered} onChange={(next) => setPart(index, next)} />
            ) : (
              <Comparison condition={part} suffix={`, condition ${numbered}`} onChange={(next) => setPart(index, next)} />
            )}
            {parts.length > 1 && (
              <button type="button" className="link danger" onClick={() => onChange(parts.filter((_, i) => i !== index))}>
                {group ? "Remove group" : "Remove"}
                <span className="sr-only">
                  {" "}
                  {group ? "" : "condition "}
                  {numbered}
                </span>
              </button>
            )}
          </li>
        );
      })}
      <li className="row">
        <button type="button" onClick={() => onChange([...parts, blankCondition()])}>
          Add a condition<span className="sr-only">{to}</span>
        </button>
        {depth < GROUP_DEPTH && (
          <button type="button" onClick={() => onChange([...parts, { any: [blankCondition()] }])}>
            Add a group of conditions<span className="sr-only">{to}</span>
          </button>
        )}
      </li>
    </ol>
  );
}

/** A part that is itself all, any or none of a list of parts. */
function GroupPart({ group, name, onChange }: { group: Condition; name: string; onChange: (c: Condition) => void }) {
  const joining = joiningOf(group) as GroupJoining;
  const parts = partsOf(group);
  const rejoin = (how: GroupJoining, next: Condition[]) => onChange(joined(how, next) ?? blankCondition());
  return (
    <div className="grow">
      <label className="inline">
        Group {name}: requests where
        <select value={joining} onChange={(e) => rejoin(e.target.value as typeof joining, parts)}>
          {GROUP_JOININGS.map((j) => (
            <option key={j.value} value={j.value}>
              {j.label}
            </option>
          ))}
        </select>
      </label>
      <ConditionList parts={parts} name={name} onChange={(next) => rejoin(joining, next)} />
    </div>
  );
}

/** One comparison: a field, a test and (unless the test is presence) a value; ``suffix`` tells
 *  the comparisons of one rule apart in their labels. */
function Comparison({ condition, suffix, onChange }: { condition: Condition; suffix: string; onChange: (c: Condition) => void }) {
  const test = testOf(condition);
  const compared = comparedOf(condition);
  const path = compared.path ?? "";
  const text = conditionText(compared);
  const needsValue = test !== "exists" && test !== "missing";
  return (
    <>
      <label>
        Field
        <input
          aria-label={`Field${suffix}`}
          value={path}
          placeholder="body.type"
          onChange={(e) => onChange(comparison(e.target.value, test, text, compared.value))}
        />
      </label>
      <label>
        Test
        <select
          aria-label={`Test${suffix}`}
          value={test}
          onChange={(e) => onChange(comparison(path, e.target.value as Test, text, compared.value))}
        >
          {TESTS.map((t) => (
            <option key={t.value} value={t.value}>
              {t.label}
            </option>
          ))}
        </select>
      </label>
      {needsValue && (
        <label>
          Value
          <input
            aria-label={`Value${suffix}`}
            value={text}
            onChange={(e) => onChange(comparison(path, test, e.target.value, compared.value))}
          />
        </label>
      )}
    </>
  );
}

interface PartProps {
  rule: Rule;
  onChange: (rule: Rule) => void;
  problems: Problems;
  at: string;
}

export function MessageIdPart({ rule, onChange, problems, at }: PartProps) {
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

export function TimestampPart({ rule, onChange, problems, at }: PartProps) {
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
