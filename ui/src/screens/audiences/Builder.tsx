// The condition builder: react-querybuilder draws the tree (groups combine with "all of" or
// "any of"); each rule's value editor is the form of its condition type.
import {
  type Field,
  type FullOption,
  type OperatorSelectorProps,
  QueryBuilder,
  type RuleGroupType,
  type ValueEditorProps,
  type ValueSelectorProps,
} from "react-querybuilder";
import "react-querybuilder/dist/query-builder.css";
import {
  type AudienceValue,
  type ConsentValue,
  defaultValue,
  type EventValue,
  type FunnelValue,
  type Group,
  IS,
  type Kind,
  OPERATORS,
  type Operator,
  type TraitValue,
  type UsersValue,
} from "./conditions";
import { EventFields, ValueInput, WindowInput } from "./fields";

interface Context {
  /** Keys of the audiences a condition may name. */
  audiences: string[];
  /** Prefix of every control's label: unique names inside a `users` condition's builder. */
  prefix: string;
}

const FIELDS: (Field & { name: Kind })[] = [
  { name: "event", label: "Performed an event" },
  { name: "funnel", label: "Did one thing, then another" },
  { name: "trait", label: "Has a trait" },
  { name: "audience", label: "Is in an audience" },
  { name: "consent", label: "Has given consent" },
  { name: "users", label: "Its users (account audience)" },
];

const TRAIT_OPERATORS = OPERATORS.map((o) => ({ name: o.name, label: o.label }));
const COMBINATORS = [
  { name: "and", label: "all of" },
  { name: "or", label: "any of" },
];

const TRANSLATIONS = {
  fields: { title: "Condition type" },
  operators: { title: "Comparison" },
  combinators: { title: "Match" },
  addRule: { label: "+ Condition", title: "Add a condition" },
  addGroup: { label: "+ Group", title: "Add a group of conditions" },
  removeRule: { label: "×", title: "Remove this condition" },
  removeGroup: { label: "×", title: "Remove this group" },
};

export function ConditionBuilder({
  query,
  onChange,
  subject,
  audiences,
  prefix = "",
}: {
  query: Group;
  onChange: (query: Group) => void;
  subject: "user" | "account";
  audiences: string[];
  prefix?: string;
}) {
  // `users` conditions exist in account audiences only, and are not nested
  const fields = subject === "account" && !prefix ? FIELDS : FIELDS.filter((f) => f.name !== "users");
  const context: Context = { audiences, prefix };
  return (
    <div className="condition-builder">
      <QueryBuilder
        fields={fields}
        query={query as RuleGroupType}
        onQueryChange={(next) => onChange(next as Group)}
        combinators={COMBINATORS}
        getOperators={(field) => (field === "trait" ? TRAIT_OPERATORS : [{ name: IS, label: IS }])}
        getDefaultValue={(rule) => defaultValue(rule.field as Kind)}
        controlElements={{
          valueEditor: RuleEditor,
          operatorSelector: TraitOperator,
          fieldSelector: KindSelect,
          combinatorSelector: MatchSelect,
        }}
        translations={TRANSLATIONS}
        showNotToggle={false}
        resetOnFieldChange
        context={context}
      />
    </div>
  );
}

/** react-querybuilder's selects name themselves by a title only; these carry a label. */
function Select({ label, ...props }: ValueSelectorProps & { label: string }) {
  const options = props.options.filter((o): o is FullOption => "name" in o);
  return (
    <select
      aria-label={label}
      className={props.className}
      value={props.value}
      disabled={props.disabled}
      onChange={(e) => props.handleOnChange(e.target.value)}
    >
      {options.map((o) => (
        <option key={o.name} value={o.name}>
          {o.label}
        </option>
      ))}
    </select>
  );
}

function KindSelect(props: ValueSelectorProps) {
  return <Select {...props} label={`${labelOf(props.path, props.context)}: type`} />;
}

function MatchSelect(props: ValueSelectorProps) {
  const group = props.path.length ? ` ${props.path.map((i) => i + 1).join(".")}` : "";
  return <Select {...props} label={`${(props.context as Context | undefined)?.prefix ?? ""}Group${group}: match`} />;
}

/** The comparison of trait conditions; other conditions say theirs in their own editor. */
function TraitOperator(props: OperatorSelectorProps) {
  if (props.options.length < 2) return null;
  return <Select {...props} label={`${labelOf(props.path, props.context)}: comparison`} />;
}

function labelOf(path: number[], context: Context | undefined): string {
  return `${context?.prefix ?? ""}Condition ${path.map((i) => i + 1).join(".")}`;
}

function RuleEditor(props: ValueEditorProps) {
  const context = props.context as Context;
  const label = labelOf(props.path, context);
  const change = (value: unknown) => props.handleOnChange(value);
  switch (props.field as Kind) {
    case "event":
      return <EventRule label={label} value={props.value as EventValue} onChange={change} />;
    case "funnel":
      return <FunnelRule label={label} value={props.value as FunnelValue} onChange={change} />;
    case "trait":
      return <TraitRule label={label} operator={props.operator as Operator} value={props.value as TraitValue} onChange={change} />;
    case "audience":
      return <AudienceRule label={label} value={props.value as AudienceValue} onChange={change} audiences={context.audiences} />;
    case "consent":
      return <ConsentRule label={label} value={props.value as ConsentValue} onChange={change} />;
    case "users":
      return <UsersRule label={label} value={props.value as UsersValue} onChange={change} audiences={context.audiences} />;
  }
}

type How = "ever" | "count" | "never";

function EventRule({ label, value, onChange }: { label: string; value: EventValue; onChange: (v: EventValue) => void }) {
  const how: How = value.performed === false ? "never" : value.count ? "count" : "ever";
  const setHow = (next: How) => {
    const { performed: _p, count: _c, ...rest } = value;
    onChange(next === "never" ? { ...rest, performed: false } : next === "count" ? { ...rest, count: { operator: "at_least", value: 1 } } : rest);
  };
  return (
    <div className="rule-fields">
      <EventFields label={label} spec={value} onChange={onChange} />
      <span className="value-input">
        <select aria-label={`${label}: how often`} value={how} onChange={(e) => setHow(e.target.value as How)}>
          <option value="ever">at least once</option>
          <option value="count">a number of times</option>
          <option value="never">never</option>
        </select>
        {value.count && (
          <>
            <select
              aria-label={`${label}: times`}
              value={value.count.operator}
              onChange={(e) => onChange({ ...value, count: { ...value.count!, operator: e.target.value as "at_least" } })}
            >
              {OPERATORS.slice(0, 2)
                .concat(OPERATORS.filter((o) => o.takes === "number"))
                .map((o) => (
                  <option key={o.name} value={o.name}>
                    {o.label.replace("is ", "")}
                  </option>
                ))}
            </select>
            <input
              type="number"
              min={0}
              aria-label={`${label}: number of times`}
              value={value.count.value}
              onChange={(e) => onChange({ ...value, count: { ...value.count!, value: Math.max(0, Math.trunc(Number(e.target.value))) } })}
            />
          </>
        )}
        <WindowInput label={`${label}: when`} window={value.window} onChange={(window) => onChange(withWindow(value, window))} />
      </span>
    </div>
  );
}

function withWindow<T extends { window?: unknown }>(value: T, window: T["window"] | undefined): T {
  const { window: _old, ...rest } = value;
  return (window === undefined ? rest : { ...rest, window }) as T;
}

function FunnelRule({ label, value, onChange }: { label: string; value: FunnelValue; onChange: (v: FunnelValue) => void }) {
  return (
    <div className="rule-fields">
      <span className="muted">first</span>
      <EventFields label={`${label}, first`} spec={value.first} onChange={(first) => onChange({ ...value, first })} />
      <WindowInput label={`${label}, first: when`} window={value.window} onChange={(window) => onChange(withWindow(value, window))} />
      <span className="value-input">
        <select
          aria-label={`${label}: then`}
          value={value.followed === false ? "no" : "yes"}
          onChange={(e) => {
            const { followed: _f, ...rest } = value;
            onChange(e.target.value === "no" ? { ...rest, followed: false } : rest);
          }}
        >
          <option value="yes">followed by</option>
          <option value="no">not followed by</option>
        </select>
      </span>
      <EventFields label={`${label}, then`} spec={value.then} onChange={(then) => onChange({ ...value, then })} />
      <label className="inline">
        within
        <input
          type="number"
          min={1}
          aria-label={`${label}: within … hours`}
          value={value.within_hours}
          onChange={(e) => onChange({ ...value, within_hours: Math.max(1, Math.trunc(Number(e.target.value))) })}
        />
        hours
      </label>
    </div>
  );
}

function TraitRule({
  label,
  operator,
  value,
  onChange,
}: {
  label: string;
  operator: Operator;
  value: TraitValue;
  onChange: (v: TraitValue) => void;
}) {
  return (
    <span className="value-input">
      <input
        aria-label={`${label}: trait`}
        placeholder="plan or address.city"
        value={value.trait}
        onChange={(e) => onChange({ ...value, trait: e.target.value })}
      />
      <ValueInput
        label={`${label}: value`}
        operator={operator}
        value={value.value}
        onChange={(next) => {
          const { value: _old, ...rest } = value;
          onChange(next === undefined ? rest : { ...rest, value: next });
        }}
      />
    </span>
  );
}

function ConsentRule({ label, value, onChange }: { label: string; value: ConsentValue; onChange: (v: ConsentValue) => void }) {
  return (
    <span className="value-input">
      <select
        aria-label={`${label}: consent`}
        value={value.granted === false ? "no" : "yes"}
        onChange={(e) => {
          const { granted: _g, ...rest } = value;
          onChange(e.target.value === "no" ? { ...rest, granted: false } : rest);
        }}
      >
        <option value="yes">has consented to</option>
        <option value="no">has not consented to</option>
      </select>
      <input
        aria-label={`${label}: consent category`}
        placeholder="category, as in categoryPreferences (e.g. Marketing)"
        value={value.category}
        onChange={(e) => onChange({ ...value, category: e.target.value })}
      />
    </span>
  );
}

function AudienceRule({
  label,
  value,
  onChange,
  audiences,
}: {
  label: string;
  value: AudienceValue;
  onChange: (v: AudienceValue) => void;
  audiences: string[];
}) {
  const keys = audiences.includes(value.audience) || !value.audience ? audiences : [value.audience, ...audiences];
  return (
    <span className="value-input">
      <select
        aria-label={`${label}: membership`}
        value={value.member === false ? "no" : "yes"}
        onChange={(e) => {
          const { member: _m, ...rest } = value;
          onChange(e.target.value === "no" ? { ...rest, member: false } : rest);
        }}
      >
        <option value="yes">is a member of</option>
        <option value="no">is not a member of</option>
      </select>
      <select aria-label={`${label}: audience`} value={value.audience} onChange={(e) => onChange({ ...value, audience: e.target.value })}>
        <option value="">choose an audience</option>
        {keys.map((key) => (
          <option key={key} value={key}>
            {key}
          </option>
        ))}
      </select>
    </span>
  );
}

function UsersRule({
  label,
  value,
  onChange,
  audiences,
}: {
  label: string;
  value: UsersValue;
  onChange: (v: UsersValue) => void;
  audiences: string[];
}) {
  return (
    <div className="rule-fields">
      <select
        aria-label={`${label}: which users`}
        value={value.match}
        onChange={(e) => onChange({ ...value, match: e.target.value as "any" | "all" })}
      >
        <option value="any">any of its users</option>
        <option value="all">all of its users</option>
      </select>
      <ConditionBuilder
        query={value.query}
        onChange={(query) => onChange({ ...value, query })}
        subject="user"
        audiences={audiences}
        prefix={`${label}, users: `}
      />
    </div>
  );
}
