// A webhook source's rules as JSON (what the request becomes: rules, match, transformation,
// reply; docs/webhooks.md is the reference), checked by the server on save with each problem
// named by its place; and a test panel running a sample request through them, storing nothing.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, ok } from "../../api/client";
import { ApiError } from "../../api/errors";
import { useCan, useWorkspace } from "../../app/session";
import { JsonTree } from "../../components/JsonTree";
import { ErrorNote } from "../../components/Notes";
import type { Hook } from "./Webhook";

function rulesOf(hook: Hook): string {
  const { auth: _auth, ...rest } = hook.config;
  return JSON.stringify(rest, null, 2);
}

/** The editor's text as an object, or the reason it is not one, in words. */
function parsed(text: string): { value?: Record<string, unknown>; problem?: string } {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value))
      return { problem: "The rules must be one JSON object, with “rules” inside." };
    return { value: value as Record<string, unknown> };
  } catch (error) {
    return { problem: `The rules are not valid JSON: ${(error as Error).message}` };
  }
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

export function HookRules({ hook }: { hook: Hook }) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const canChange = useCan("sources:write");
  const [text, setText] = useState(() => rulesOf(hook));
  const [saved, setSaved] = useState(false);
  const { value, problem } = parsed(text);
  const save = useMutation({
    mutationFn: (config: Record<string, unknown>) =>
      ok(
        api.PUT("/api/v1/workspaces/{workspace}/sources/{source_id}/hook", {
          params: { path: { workspace, source_id: hook.source_id } },
          body: { preset: hook.preset, config: { ...config, auth: hook.config.auth } },
        }),
      ),
    onSuccess: async () => {
      setSaved(true);
      await queries.invalidateQueries({ queryKey: ["hook", workspace, hook.source_id] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (value) save.mutate(value);
  };
  return (
    <section aria-label="Rules">
      <form onSubmit={submit}>
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
              setSaved(false);
            }}
          />
        </label>
        {problem && (
          <p className="note error" role="alert">
            {problem}
          </p>
        )}
        <FieldProblems error={save.error} />
        {saved && <p role="status">Saved: new requests use these rules.</p>}
        {canChange && (
          <div className="row">
            <button type="submit" className="primary" disabled={!value || save.isPending}>
              Save rules
            </button>
          </div>
        )}
      </form>
      <HookTest hook={hook} rules={value} />
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

function HookTest({ hook, rules }: { hook: Hook; rules: Record<string, unknown> | undefined }) {
  const workspace = useWorkspace();
  const [body, setBody] = useState("{}");
  const [headers, setHeaders] = useState("Content-Type: application/json");
  const run = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/sources/{source_id}/hook/test", {
          params: { path: { workspace, source_id: hook.source_id } },
          body: { config: rules ?? null, request: { method: "POST", body, headers: headerLines(headers) } },
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
        Paste a request the tool sends (its body, and headers the rules read). It runs through the rules above, saved or
        not, without checking its signature and without storing anything.
      </p>
      <label>
        Sample body
        <textarea className="code" rows={8} spellCheck={false} value={body} onChange={(e) => setBody(e.target.value)} />
      </label>
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
          {run.data.messages.length === 0 ? (
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
