// PII rules: which fields are personal and what happens to them (masked, hashed, redacted,
// removed, or the message blocked), at collection or per destination; the inbox of fields that
// look personal and that no rule covers yet; and a tester that runs the rules on a sample.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { api, inWorkspace, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useWorkspace } from "../../app/session";
import { FormActions } from "../../components/FormActions";
import { JsonTree } from "../../components/JsonTree";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { Tabs } from "../../components/Tabs";
import { counted } from "../../components/words";
import { actionWords, DETECTORS, detectorWords, PII_ACTIONS, whyPersonal } from "./words";

type Rule = components["schemas"]["RuleView"];
type Inbox = components["schemas"]["InboxItemView"];
type Action = "allow" | "mask" | "hash" | "redact" | "drop" | "block";

const RULES = (workspace: string) => ["pii-rules", workspace] as const;
const INBOX = (workspace: string) => ["pii-inbox", workspace] as const;

export default function PiiRules() {
  return (
    <>
      <PageHeader title="PII rules" />
      <p className="muted">
        Say which fields hold personal data and what happens to them: masked, hashed, redacted or removed before they
        are stored or sent, or the whole message blocked. A rule names a field, a pattern of keys or values, or a
        built-in detector (emails, phone numbers, card numbers…).
      </p>
      <Tabs
        label="PII rules"
        tabs={[
          { id: "rules", label: "Rules", content: <RuleList /> },
          { id: "inbox", label: "Inbox", content: <InboxList /> },
          { id: "test", label: "Test the rules", content: <Tester /> },
        ]}
      />
    </>
  );
}

function useRules() {
  const workspace = useWorkspace();
  return useQuery({
    queryKey: RULES(workspace),
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/pii-rules", inWorkspace(workspace))),
  });
}

function useNames() {
  const workspace = useWorkspace();
  const sources = useQuery({
    queryKey: ["sources", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/sources", inWorkspace(workspace))),
  });
  const destinations = useQuery({
    queryKey: ["destinations", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/destinations", inWorkspace(workspace))),
  });
  return {
    sources: (sources.data ?? []).map((s) => ({ id: s.id, name: s.name })),
    destinations: (destinations.data ?? []).map((d) => ({ id: d.id, name: d.name })),
  };
}

function conditionWords(rule: Pick<Rule, "path" | "key" | "value" | "detector">): string {
  const parts = [];
  if (rule.path) parts.push(`field ${rule.path}`);
  if (rule.key) parts.push(`key matches /${rule.key}/`);
  if (rule.value) parts.push(`value matches /${rule.value}/`);
  if (rule.detector) parts.push(`looks like: ${detectorWords(rule.detector).toLowerCase()}`);
  return parts.join(" and ") || "—";
}

function scopeWords(ids: number[] | null | undefined, names: { id: number; name: string }[], all: string): string {
  if (ids == null) return all;
  if (ids.length === 0) return "none";
  return ids.map((id) => names.find((n) => n.id === id)?.name ?? `#${id}`).join(", ");
}

function RuleList() {
  const canWrite = useCan("privacy:write");
  const rules = useRules();
  const names = useNames();
  const [editing, setEditing] = useState<Rule | "new" | null>(null);
  return (
    <section aria-label="Rules">
      {canWrite && editing === null && (
        <p>
          <button type="button" className="primary" onClick={() => setEditing("new")}>
            Add a rule
          </button>
        </p>
      )}
      {editing !== null && <RuleForm rule={editing === "new" ? null : editing} onDone={() => setEditing(null)} />}
      {rules.isPending ? (
        <Loading what="the rules" />
      ) : rules.error ? (
        <ErrorNote error={rules.error} retry={() => rules.refetch()} />
      ) : rules.data.length === 0 ? (
        <Empty title="No rule yet">
          <p>
            Nothing is masked or removed yet. {canWrite ? "Add a rule, or " : ""}open the Inbox to see the fields that look
            personal in what your sources send.
          </p>
        </Empty>
      ) : (
        <table className="wide">
          <caption className="sr-only">PII rules</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">When</th>
              <th scope="col">Then</th>
              <th scope="col">Sources</th>
              <th scope="col">Destinations</th>
              <th scope="col">State</th>
              {canWrite && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {rules.data.map((rule) => (
              <RuleRow key={rule.id} rule={rule} names={names} onEdit={() => setEditing(rule)} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function RuleRow({ rule, names, onEdit }: { rule: Rule; names: ReturnType<typeof useNames>; onEdit: () => void }) {
  const workspace = useWorkspace();
  const canWrite = useCan("privacy:write");
  const queries = useQueryClient();
  const remove = useMutation({
    mutationFn: () =>
      ok(
        api.DELETE("/api/v1/workspaces/{workspace}/pii-rules/{rule_id}", {
          params: { path: { workspace, rule_id: rule.id } },
        }),
      ),
    onSuccess: () => queries.invalidateQueries({ queryKey: RULES(workspace) }),
  });
  const turn = useMutation({
    mutationFn: (enabled: boolean) =>
      ok(
        api.PATCH("/api/v1/workspaces/{workspace}/pii-rules/{rule_id}", {
          params: { path: { workspace, rule_id: rule.id } },
          body: { enabled },
        }),
      ),
    onSuccess: () => queries.invalidateQueries({ queryKey: RULES(workspace) }),
  });
  return (
    <tr>
      <td>{rule.name}</td>
      <td>{conditionWords(rule)}</td>
      <td>{actionWords(rule.action)}</td>
      <td>{scopeWords(rule.sources, names.sources, "All")}</td>
      <td>{scopeWords(rule.destinations, names.destinations, "At collection (all)")}</td>
      <td>{rule.enabled ? "On" : "Off"}</td>
      {canWrite && (
        <td>
          <span className="row">
            <button type="button" onClick={onEdit}>
              Edit
            </button>
            <button
              type="button"
              aria-label={`${rule.enabled ? "Turn off" : "Turn on"} the rule ${rule.name}`}
              onClick={() => turn.mutate(!rule.enabled)}
              disabled={turn.isPending}
            >
              {rule.enabled ? "Turn off" : "Turn on"}
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => {
                if (window.confirm(`Delete the rule “${rule.name}”? Its fields are no longer ${actionWords(rule.action).toLowerCase()}ed from now on.`))
                  remove.mutate();
              }}
            >
              Delete
            </button>
          </span>
          {remove.error ? <ErrorNote error={remove.error} /> : null}
          {turn.error ? <ErrorNote error={turn.error} /> : null}
        </td>
      )}
    </tr>
  );
}

function ScopeField({
  legend,
  all,
  some = "Only those ticked",
  value,
  onChange,
  choices,
}: {
  legend: string;
  all: string;
  some?: string;
  value: number[] | null;
  onChange: (value: number[] | null) => void;
  choices: { id: number; name: string }[];
}) {
  const group = useId();
  return (
    <fieldset>
      <legend>{legend}</legend>
      <label className="inline">
        <input type="radio" name={group} checked={value === null} onChange={() => onChange(null)} />
        {all}
      </label>
      <label className="inline">
        <input type="radio" name={group} checked={value !== null} onChange={() => onChange([])} />
        {some}
      </label>
      {value !== null &&
        (choices.length === 0 ? (
          <p className="muted">There is none to choose yet.</p>
        ) : (
          <div className="row wrap checks" role="group" aria-label={legend}>
            {choices.map((choice) => (
              <label key={choice.id} className="inline">
                <input
                  type="checkbox"
                  checked={value.includes(choice.id)}
                  onChange={(e) => onChange(e.target.checked ? [...value, choice.id] : value.filter((id) => id !== choice.id))}
                />
                {choice.name}
              </label>
            ))}
          </div>
        ))}
    </fieldset>
  );
}

function blankToNull(value: string): string | null {
  return value.trim() ? value.trim() : null;
}

function RuleForm({ rule, onDone }: { rule: Rule | null; onDone: () => void }) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const names = useNames();
  const [name, setName] = useState(rule?.name ?? "");
  const [path, setPath] = useState(rule?.path ?? "");
  const [key, setKey] = useState(rule?.key ?? "");
  const [value, setValue] = useState(rule?.value ?? "");
  const [detector, setDetector] = useState(rule?.detector ?? "");
  const [action, setAction] = useState<Action>((rule?.action as Action) ?? "mask");
  const [sources, setSources] = useState<number[] | null>(rule?.sources ?? null);
  const [destinations, setDestinations] = useState<number[] | null>(rule?.destinations ?? null);
  const [enabled, setEnabled] = useState(rule?.enabled ?? true);
  const [problem, setProblem] = useState<string | null>(null);
  const body = {
    name: blankToNull(name),
    path: blankToNull(path),
    key: blankToNull(key),
    value: blankToNull(value),
    detector: detector || null,
    action,
    sources,
    destinations,
    enabled,
  };
  const save = useMutation({
    mutationFn: () =>
      rule
        ? ok(
            api.PATCH("/api/v1/workspaces/{workspace}/pii-rules/{rule_id}", {
              params: { path: { workspace, rule_id: rule.id } },
              body,
            }),
          )
        : ok(api.POST("/api/v1/workspaces/{workspace}/pii-rules", { ...inWorkspace(workspace), body })),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: RULES(workspace) });
      void queries.invalidateQueries({ queryKey: INBOX(workspace) });
      onDone();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!body.path && !body.key && !body.value && !body.detector) {
      setProblem("Say which fields the rule is about: a field, a key or value pattern, or a detector.");
      return;
    }
    setProblem(null);
    save.mutate();
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="rule-title">
      <h2 id="rule-title">{rule ? `Edit “${rule.name}”` : "New PII rule"}</h2>
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Customer emails" />
      </label>
      <fieldset>
        <legend>Which fields (all that are filled must match)</legend>
        <label>
          Field
          <input value={path} onChange={(e) => setPath(e.target.value)} placeholder="traits.email, properties.*.phone" />
        </label>
        <p className="muted small">A dotted path; * stands for one part, ** for any number, [] for each item of a list.</p>
        <label>
          Key pattern
          <input value={key} onChange={(e) => setKey(e.target.value)} placeholder="(?i)ssn|passport" />
        </label>
        <label>
          Value pattern
          <input value={value} onChange={(e) => setValue(e.target.value)} placeholder="^\d{3}-\d{2}-\d{4}$" />
        </label>
        <label>
          Detector
          <select value={detector} onChange={(e) => setDetector(e.target.value)}>
            <option value="">None</option>
            {DETECTORS.map((d) => (
              <option key={d.name} value={d.name}>
                {d.label}
              </option>
            ))}
          </select>
        </label>
      </fieldset>
      <label>
        What happens to them
        <select value={action} onChange={(e) => setAction(e.target.value as Action)}>
          {PII_ACTIONS.map((a) => (
            <option key={a.action} value={a.action}>
              {a.label}
            </option>
          ))}
        </select>
      </label>
      <ScopeField legend="From sources" all="All sources" some="Only the sources ticked" value={sources} onChange={setSources} choices={names.sources} />
      <ScopeField
        legend="Applies"
        all="At collection, before anything is stored or sent"
        some="Only before sending to the destinations ticked"
        value={destinations}
        onChange={setDestinations}
        choices={names.destinations}
      />
      <label className="inline">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        The rule is on
      </label>
      {problem && (
        <p className="error-text" role="alert">
          {problem}
        </p>
      )}
      <FormActions action={rule ? "Save the rule" : "Add the rule"} pending={save.isPending} error={save.error} onCancel={onDone} />
    </form>
  );
}

function InboxList() {
  const workspace = useWorkspace();
  const canWrite = useCan("privacy:write");
  const inbox = useQuery({
    queryKey: INBOX(workspace),
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/pii-inbox", inWorkspace(workspace))),
    refetchInterval: 5000, // new fields arrive as sources send them
  });
  if (inbox.isPending) return <Loading what="the inbox" />;
  if (inbox.error) return <ErrorNote error={inbox.error} retry={() => inbox.refetch()} />;
  if (inbox.data.length === 0)
    return (
      <Empty title="Nothing to classify">
        <p>
          No field that looks personal is left without a rule. New ones appear here as your sources send them: a
          property or trait named like an email, a phone number or an address, or whose values look like one.
        </p>
      </Empty>
    );
  return (
    <table className="wide">
      <caption>Fields that look personal and that no rule covers yet</caption>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Values</th>
          <th scope="col">Seen</th>
          <th scope="col">Last seen</th>
          {canWrite && <th scope="col">Classify</th>}
        </tr>
      </thead>
      <tbody>
        {inbox.data.map((item) => (
          <InboxRow key={item.path} item={item} />
        ))}
      </tbody>
    </table>
  );
}

const TYPE_WORDS: Record<string, string> = {
  string: "text",
  number: "number",
  integer: "number",
  boolean: "yes/no",
  object: "object",
  array: "list",
  null: "empty",
};

function InboxRow({ item }: { item: Inbox }) {
  const workspace = useWorkspace();
  const canWrite = useCan("privacy:write");
  const queries = useQueryClient();
  const [action, setAction] = useState<Action>("mask");
  const done = () => {
    void queries.invalidateQueries({ queryKey: INBOX(workspace) });
    void queries.invalidateQueries({ queryKey: RULES(workspace) });
  };
  const classify = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/pii-inbox/classify", {
          ...inWorkspace(workspace),
          body: { path: item.path, action },
        }),
      ),
    onSuccess: done,
  });
  const dismiss = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/pii-inbox/dismiss", {
          ...inWorkspace(workspace),
          body: { path: item.path },
        }),
      ),
    onSuccess: done,
  });
  const kinds = Object.keys(item.types).map((type) => TYPE_WORDS[type] ?? type).join(", ");
  return (
    <tr>
      <td>
        <code>{item.path}</code>
        <div className="muted">{whyPersonal(item.detected)}</div>
      </td>
      <td>{kinds || "—"}</td>
      <td>{counted(item.count, "time")}</td>
      <td>{item.last_seen ? new Date(item.last_seen).toLocaleString() : "—"}</td>
      {canWrite && (
        <td>
          <span className="row">
            <label>
              <span className="sr-only">Action for {item.path}</span>
              <select value={action} onChange={(e) => setAction(e.target.value as Action)}>
                {PII_ACTIONS.filter((a) => a.action !== "allow").map((a) => (
                  <option key={a.action} value={a.action}>
                    {actionWords(a.action)}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" className="primary" onClick={() => classify.mutate()} disabled={classify.isPending}>
              Make a rule
            </button>
            <button type="button" onClick={() => dismiss.mutate()} disabled={dismiss.isPending}>
              Not personal
            </button>
          </span>
          {classify.error ? <ErrorNote error={classify.error} /> : null}
          {dismiss.error ? <ErrorNote error={dismiss.error} /> : null}
        </td>
      )}
    </tr>
  );
}

const SAMPLE = JSON.stringify(
  {
    type: "identify",
    userId: "user-123",
    traits: { email: "ana@example.com", phone: "+44 20 7946 0958", plan: "pro" },
  },
  null,
  2,
);

function Tester() {
  const workspace = useWorkspace();
  const names = useNames();
  const rules = useRules();
  const [text, setText] = useState(SAMPLE);
  const [source, setSource] = useState("");
  const [destination, setDestination] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const run = useMutation({
    mutationFn: (message: Record<string, unknown>) =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/pii-rules/test", {
          ...inWorkspace(workspace),
          body: {
            message,
            source_id: source ? Number(source) : null,
            destination_id: destination ? Number(destination) : null,
          },
        }),
      ),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      setProblem("The sample is not valid JSON: check the quotes and commas.");
      return;
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      setProblem("The sample is one message: a JSON object, between { and }.");
      return;
    }
    setProblem(null);
    run.mutate(message as Record<string, unknown>);
  };
  const ruleName = (id: number) => rules.data?.find((r) => r.id === id)?.name ?? `rule #${id}`;
  return (
    <section aria-label="Test the rules">
      <form className="card" onSubmit={submit} aria-labelledby="tester-title">
        <h2 id="tester-title">Run the rules on a sample message</h2>
        <p className="muted">Nothing is stored or sent: the result shows what each rule would do.</p>
        <label>
          Sample message (JSON)
          <textarea rows={10} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
        </label>
        <div className="toolbar">
          <label>
            As sent from
            <select value={source} onChange={(e) => setSource(e.target.value)}>
              <option value="">any source</option>
              {names.sources.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            As it would reach
            <select value={destination} onChange={(e) => setDestination(e.target.value)}>
              <option value="">collection only</option>
              {names.destinations.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="primary" disabled={run.isPending}>
            Test
          </button>
        </div>
        {problem && (
          <p className="error-text" role="alert">
            {problem}
          </p>
        )}
        {run.error ? <ErrorNote error={run.error} /> : null}
      </form>
      {run.data && (
        <section className="card" aria-labelledby="tester-result">
          <h2 id="tester-result">Result</h2>
          {run.data.blocked && <p className="error-text">The message is blocked: {run.data.blocked}</p>}
          {run.data.fields.length === 0 ? (
            <p>No rule applies to this message: it is kept as it is.</p>
          ) : (
            <table>
              <caption className="sr-only">Fields decided</caption>
              <thead>
                <tr>
                  <th scope="col">Field</th>
                  <th scope="col">What happens</th>
                  <th scope="col">Where</th>
                  <th scope="col">By the rule</th>
                </tr>
              </thead>
              <tbody>
                {run.data.fields.map((field) => (
                  <tr key={`${field.stage}/${field.path}/${field.rule_id}`}>
                    <td>
                      <code>{field.path}</code>
                    </td>
                    <td>{actionWords(field.action)}</td>
                    <td>{field.stage === "collection" ? "At collection" : field.stage === "destination" ? "Before sending" : field.stage}</td>
                    <td>{ruleName(field.rule_id)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {run.data.message && (
            <>
              <h3>The message after the rules</h3>
              <JsonTree data={run.data.message} />
            </>
          )}
        </section>
      )}
    </section>
  );
}
