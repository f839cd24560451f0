// The two optional parts of a webhook source's configuration besides its rules, in the rules
// form: a transformation (an expression over the messages the rules made) and a verification
// reply (a value some senders ask the URL to echo before they send to it). docs/webhooks.md
// describes both.
import { useId } from "react";
import { ConditionPart, Problem, type Problems } from "./RuleParts";
import { blankReply, type Condition, type Method, type Reply, type RulesConfig, withMethod } from "./ruleForm";

interface PartProps {
  config: RulesConfig;
  onChange: (config: RulesConfig) => void;
  problems: Problems;
}

export function TransformPart({ config, onChange, problems }: PartProps) {
  const id = useId();
  return (
    <fieldset className="card rule-card extra" aria-label="Transformation">
      <legend>Transformation (optional)</legend>
      <p className="muted" id={`${id}-hint`}>
        For what the rules cannot say. The expression receives the messages the rules made, as <code>messages</code>{" "}
        (and the request's <code>body</code>, <code>headers</code>, <code>query</code> and <code>method</code>), and
        gives back the messages to store: a list, one message, or <code>null</code> for none. Leave it empty to store
        the rules' messages as they are.
      </p>
      <label>
        Expression
        <textarea
          className="code"
          rows={3}
          spellCheck={false}
          value={config.transform ?? ""}
          placeholder="[m for m in messages if m.properties.total > 0]"
          aria-describedby={`${id}-hint`}
          aria-invalid={problems.has("transform") || undefined}
          onChange={(e) => onChange({ ...config, transform: e.target.value || null })}
        />
      </label>
      <Problem problems={problems} at="transform" />
    </fieldset>
  );
}

export function ReplyPart({ config, onChange, problems }: PartProps) {
  const id = useId();
  const reply = config.reply ?? null;
  const set = (next: Reply | null) => onChange({ ...config, reply: next });
  return (
    <fieldset className="card rule-card" aria-label="Verification reply">
      <legend>Verification reply (optional)</legend>
      <label className="inline">
        <input
          type="checkbox"
          checked={reply !== null}
          aria-describedby={`${id}-hint`}
          onChange={(e) => set(e.target.checked ? blankReply() : null)}
        />
        Answer the tool's verification requests
      </label>
      <p className="muted" id={`${id}-hint`}>
        Some tools check a URL before they send to it: they send a value and expect it back. Such a request is answered
        at once, before its signature is checked, and makes no message.
      </p>
      {reply && <ReplyFields reply={reply} onChange={set} problems={problems} />}
      <Problem problems={problems} at="reply" />
    </fieldset>
  );
}

function ReplyFields({ reply, onChange, problems }: { reply: Reply; onChange: (r: Reply) => void; problems: Problems }) {
  const methods = reply.methods ?? ["GET", "POST"];
  return (
    <>
      <ConditionPart
        condition={reply.when as Condition}
        label="Verification requests are"
        required
        onChange={(when) => onChange({ ...reply, when: (when ?? blankReply().when) as Reply["when"] })}
      />
      <Problem problems={problems} at="reply.when" />
      <div className="row wrap">
        <label>
          Echo the value of
          <input
            value={reply.echo}
            placeholder="query.challenge"
            aria-invalid={problems.has("reply.echo") || undefined}
            onChange={(e) => onChange({ ...reply, echo: e.target.value })}
          />
        </label>
        <label>
          Answer with
          <select
            value={reply.json_key == null ? "text" : "json"}
            onChange={(e) => onChange({ ...reply, json_key: e.target.value === "json" ? "challenge" : null })}
          >
            <option value="text">the value, as plain text</option>
            <option value="json">a JSON object holding the value</option>
          </select>
        </label>
        {reply.json_key != null && (
          <label>
            Key of the value in the object
            <input value={reply.json_key} onChange={(e) => onChange({ ...reply, json_key: e.target.value })} />
          </label>
        )}
        <label>
          Status code
          <input
            type="number"
            min={200}
            max={299}
            value={reply.status ?? 200}
            onChange={(e) => onChange({ ...reply, status: e.target.value === "" ? undefined : Number(e.target.value) })}
          />
        </label>
      </div>
      <Problem problems={problems} at="reply.echo" />
      <Problem problems={problems} at="reply.json_key" />
      <Problem problems={problems} at="reply.status" />
      <fieldset className="plain-fieldset row">
        <legend>Sent with</legend>
        {(["GET", "POST"] as Method[]).map((method) => (
          <label key={method} className="inline">
            <input
              type="checkbox"
              checked={methods.includes(method)}
              disabled={methods.length === 1 && methods.includes(method)}
              onChange={(e) => onChange(withMethod(reply, method, e.target.checked))}
            />
            {method}
          </label>
        ))}
      </fieldset>
    </>
  );
}
