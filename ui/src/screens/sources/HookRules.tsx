// A webhook source's rules (what a request becomes; docs/webhooks.md is the reference): a form
// for people who do not write JSON, and the JSON itself as the advanced view (the whole
// configuration but its authentication: rules, match, transformation, reply). The server
// checks them on save and each problem shows next to its field; the test panel runs a sample
// request through the rules as they stand, saved or not, storing nothing.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, ok } from "../../api/client";
import { ApiError } from "../../api/errors";
import { useCan, useWorkspace } from "../../app/session";
import { JsonTree } from "../../components/JsonTree";
import { ErrorNote } from "../../components/Notes";
import { RulesForm } from "./RuleForm";
import { type HookConfigIn, placed, placesOf, type Rule, type RulesConfig } from "./ruleForm";
import type { Hook } from "./Webhook";

function rulesOf(hook: Hook): RulesConfig {
  const { auth: _auth, ...rest } = hook.config as HookConfigIn;
  return rest;
}

/** The editor's text as an object, or the reason it is not one, in words. */
function parsed(text: string): { value?: RulesConfig; problem?: string } {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value))
      return { problem: "The rules must be one JSON object, with “rules” inside." };
    return { value: value as RulesConfig };
  } catch (error) {
    return { problem: `The rules are not valid JSON: ${(error as Error).message}` };
  }
}

/** The form's rules without the rows left blank (a field with no name or no value). */
function cleaned(config: RulesConfig): RulesConfig {
  const rule = (r: Rule): Rule => ({
    ...r,
    set: Object.fromEntries(Object.entries(r.set ?? {}).filter(([key, value]) => key !== "" && value !== "")),
  });
  return { ...config, rules: (config.rules ?? []).map(rule) };
}

function FieldProblems({ error }: { error: unknown }) {
  if (!(error instanceof ApiError) || error.fields.length === 0) return error ? <ErrorNote error={error} /> : null;
  return (
    <div className="note error" role="alert">
      <p>{error.message}</p>
      <ul aria-label="Problems">
        {error.fields.map((f, i) => (
          <li key={i}>
            <code>{f.field}</code>: {f.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

type View = "form" | "json";

export function HookRules({ hook }: { hook: Hook }) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const canChange = useCan("sources:write");
  const [view, setView] = useState<View>("form");
  const [config, setConfig] = useState<RulesConfig>(() => rulesOf(hook));
  const [text, setText] = useState("");
  const [saved, setSaved] = useState(false);
  const fromText = view === "json" ? parsed(text) : { value: cleaned(config) };
  const save = useMutation({
    mutationFn: (rules: RulesConfig) =>
      ok(
        api.PUT("/api/v1/workspaces/{workspace}/sources/{source_id}/hook", {
          params: { path: { workspace, source_id: hook.source_id } },
          body: { preset: hook.preset, config: { ...rules, auth: hook.config.auth as HookConfigIn["auth"] } },
        }),
      ),
    onSuccess: async (changed) => {
      const stored = rulesOf(changed);
      setConfig(stored);
      if (view === "json") setText(JSON.stringify(stored, null, 2));
      setSaved(true);
      await queries.invalidateQueries({ queryKey: ["hook", workspace, hook.source_id] });
    },
  });
  const fields = save.error instanceof ApiError ? save.error.fields : [];
  const problems = placed(fields, placesOf(config));
  const edited = () => {
    setSaved(false);
    save.reset();
  };
  const show = (next: View) => {
    if (next === view) return;
    if (next === "json") setText(JSON.stringify(cleaned(config), null, 2));
    else if (fromText.value) setConfig(fromText.value);
    else return;
    setView(next);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (fromText.value) save.mutate(fromText.value);
  };
  return (
    <section aria-label="Rules">
      <div className="segmented" role="group" aria-label="Edit the rules as">
        <button type="button" aria-pressed={view === "form"} onClick={() => show("form")} disabled={!!fromText.problem}>
          Form
        </button>
        <button type="button" aria-pressed={view === "json"} onClick={() => show("json")}>
          JSON (advanced)
        </button>
      </div>
      <form onSubmit={submit} aria-label="Rules editor" className="rules-editor">
        {view === "form" ? (
          <RulesForm
            config={config}
            readOnly={!canChange}
            problems={problems}
            onChange={(next) => {
              setConfig(next);
              edited();
            }}
          />
        ) : (
          <label>
            Rules (JSON)
            <textarea
              className="code"
              rows={18}
              spellCheck={false}
              value={text}
              readOnly={!canChange}
              onChange={(e) => {
                setText(e.target.value);
                edited();
              }}
            />
          </label>
        )}
        {fromText.problem && (
          <p className="note error" role="alert">
            {fromText.problem}
          </p>
        )}
        {view === "json" ? (
          <FieldProblems error={save.error} />
        ) : (
          save.error &&
          (fields.length > 0 ? (
            <p className="note error" role="alert">
              The rules were not saved: fix the fields marked in red, then save again.
            </p>
          ) : (
            <ErrorNote error={save.error} />
          ))
        )}
        {saved && <p role="status">Saved: new requests use these rules.</p>}
        {canChange && (
          <div className="row">
            <button type="submit" className="primary" disabled={!fromText.value || save.isPending}>
              Save rules
            </button>
          </div>
        )}
      </form>
      <HookTest hook={hook} rules={fromText.value} />
    </section>
  );
}

function headerLines(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf(":");
    if (at > 0) headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return headers;
}

function HookTest({ hook, rules }: { hook: Hook; rules: RulesConfig | undefined }) {
  const workspace = useWorkspace();
  const [body, setBody] = useState("{}");
  const [headers, setHeaders] = useState("Content-Type: application/json");
  const [method, setMethod] = useState<"POST" | "GET">("POST");
  const [query, setQuery] = useState("");
  const run = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/sources/{source_id}/hook/test", {
          params: { path: { workspace, source_id: hook.source_id } },
          body: {
            config: rules ? { ...rules, auth: { type: "none" } } : null,
            request: {
              method,
              body: method === "GET" ? null : body,
              headers: headerLines(headers),
              query: Object.fromEntries(new URLSearchParams(query.replace(/^\?/, ""))),
            },
          },
        }),
      ),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    run.mutate();
  };
  return (
    <form onSubmit={submit} aria-label="Test the rules" className="card">
      <h2>Test the rules</h2>
      <p className="muted">
        Paste a request the tool sends (its body, and the query and headers the rules read). It runs through the rules
        above, saved or not, without checking its signature and without storing anything.
      </p>
      <div className="row wrap">
        <label>
          Sample method
          <select value={method} onChange={(e) => setMethod(e.target.value as "POST" | "GET")}>
            <option value="POST">POST (a body)</option>
            <option value="GET">GET (no body)</option>
          </select>
        </label>
        <label className="grow">
          Sample query (optional, name=value&amp;…)
          <input className="code" value={query} placeholder="challenge=abc123" onChange={(e) => setQuery(e.target.value)} />
        </label>
      </div>
      {method === "POST" && (
        <label>
          Sample body
          <textarea className="code" rows={8} spellCheck={false} value={body} onChange={(e) => setBody(e.target.value)} />
        </label>
      )}
      <label>
        Sample headers (one “Name: value” a line)
        <textarea className="code" rows={3} spellCheck={false} value={headers} onChange={(e) => setHeaders(e.target.value)} />
      </label>
      <div className="row">
        <button type="submit" disabled={run.isPending}>
          Run the test
        </button>
      </div>
      <FieldProblems error={run.error} />
      {run.data && (
        <div aria-label="Test result">
          {run.data.errors.length > 0 && (
            <ul aria-label="Test errors">
              {run.data.errors.map((e, i) => (
                <li key={i}>{e}</li>
              ))}
            </ul>
          )}
          {run.data.reply != null ? (
            <p>
              A verification request: answered with <code>{run.data.reply}</code>, and no message made.
            </p>
          ) : run.data.messages.length === 0 ? (
            <p>
              No message: {run.data.matched.length === 0 ? "no rule holds for this request." : "see the errors above."}
            </p>
          ) : (
            <JsonTree data={run.data.messages} />
          )}
        </div>
      )}
    </form>
  );
}
