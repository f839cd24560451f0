// How events become one profile per person: blocked values, limits, priorities and caps.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { api, inWorkspace, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useWorkspace } from "../../app/session";
import { ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { Pairs } from "./Pairs";

type Rules = components["schemas"]["IdentityRulesView"];
type Limit = components["schemas"]["LimitView"];

export default function IdentityRules() {
  const workspace = useWorkspace();
  const rules = useQuery({
    queryKey: ["identity-rules", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/identity-rules", inWorkspace(workspace))),
  });
  return (
    <>
      <PageHeader title="Identity rules" />
      <p className="muted">
        These rules decide when events belong to the same person. Changes apply to events processed from now on;
        profiles already built stay as they are.
      </p>
      {rules.isPending ? (
        <Loading what="the identity rules" />
      ) : rules.error ? (
        <ErrorNote error={rules.error} retry={() => rules.refetch()} />
      ) : (
        <RulesForm saved={rules.data} />
      )}
    </>
  );
}

function RulesForm({ saved }: { saved: Rules }) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const canEdit = useCan("identity:write");
  const [rules, setRules] = useState<Rules>(saved);
  const [blocked, setBlocked] = useState(saved.blocked.join("\n"));
  useEffect(() => {
    setRules(saved);
    setBlocked(saved.blocked.join("\n"));
  }, [saved]);
  const save = useMutation({
    mutationFn: () =>
      ok(
        api.PUT("/api/v1/workspaces/{workspace}/identity-rules", {
          ...inWorkspace(workspace),
          body: { ...rules, blocked: blocked.split("\n").map((line) => line.trim()).filter(Boolean) },
        }),
      ),
    onSuccess: (data) => queries.setQueryData(["identity-rules", workspace], data),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const number = (value: string) => (value === "" ? 0 : Number(value));
  const limits = Object.entries(rules.limits).map(([type, limit]) => [type, limitText(limit)] as [string, string]);
  return (
    <form onSubmit={submit} aria-label="Identity rules">
      <fieldset disabled={!canEdit}>
        <section className="card">
          <h2>Values that are never identifiers</h2>
          <label>
            Blocked values (a regular expression per line, matched against the whole value, ignoring case)
            <textarea rows={5} value={blocked} onChange={(e) => setBlocked(e.target.value)} />
          </label>
          <label>
            Longest identifier value (characters)
            <input
              type="number"
              min={1}
              value={rules.max_length}
              onChange={(e) => setRules({ ...rules, max_length: number(e.target.value) })}
            />
          </label>
        </section>
        <section className="card">
          <h2>How many identifiers of a type one profile may have</h2>
          <p className="muted">
            Write a number, or a number and a time window (“5 in P30D”: at most 5 added in 30 days).
          </p>
          <Pairs
            label="Limits by identifier type"
            keyLabel="Identifier type"
            valueLabel="Limit"
            pairs={limits}
            onChange={(pairs) =>
              setRules({ ...rules, limits: Object.fromEntries(pairs.map(([type, text]) => [type, parseLimit(text)])) })
            }
          />
          <label>
            Any other type
            <input
              value={limitText(rules.default_limit)}
              onChange={(e) => setRules({ ...rules, default_limit: parseLimit(e.target.value) })}
            />
          </label>
        </section>
        <section className="card">
          <h2>Which identifier wins when two people collide</h2>
          <p className="muted">The lowest number is the strongest; a new identifier that would break a limit is dropped, weakest first.</p>
          <Pairs
            label="Priorities by identifier type"
            keyLabel="Identifier type"
            valueLabel="Priority"
            pairs={Object.entries(rules.priorities).map(([type, rank]) => [type, String(rank)])}
            onChange={(pairs) =>
              setRules({ ...rules, priorities: Object.fromEntries(pairs.map(([type, rank]) => [type, number(rank)])) })
            }
          />
        </section>
        <section className="card">
          <h2>Where identifiers come from</h2>
          <Pairs
            label="Traits read as identifiers"
            keyLabel="Trait"
            valueLabel="Identifier type"
            pairs={Object.entries(rules.trait_identifiers)}
            onChange={(pairs) => setRules({ ...rules, trait_identifiers: Object.fromEntries(pairs) })}
          />
          <Pairs
            label="Event properties read as identifiers"
            keyLabel="Property path"
            valueLabel="Identifier type"
            pairs={Object.entries(rules.property_identifiers)}
            onChange={(pairs) => setRules({ ...rules, property_identifiers: Object.fromEntries(pairs) })}
          />
        </section>
        <section className="card">
          <h2>Safety caps</h2>
          <label>
            Merges per profile
            <input
              type="number"
              min={0}
              value={rules.max_merges}
              onChange={(e) => setRules({ ...rules, max_merges: number(e.target.value) })}
            />
          </label>
          <label>
            Identifiers per profile
            <input
              type="number"
              min={1}
              value={rules.max_identifiers}
              onChange={(e) => setRules({ ...rules, max_identifiers: number(e.target.value) })}
            />
          </label>
        </section>
      </fieldset>
      {save.error && <ErrorNote error={save.error} />}
      {save.isSuccess && (
        <div className="note" role="status">
          Saved. The processor follows the new rules within a few seconds.
        </div>
      )}
      {canEdit ? (
        <button type="submit" className="primary" disabled={save.isPending}>
          Save rules
        </button>
      ) : (
        <p className="muted">Your role reads these rules; an admin or owner changes them.</p>
      )}
    </form>
  );
}

function limitText(limit: Limit): string {
  return limit.window ? `${limit.max} in ${limit.window}` : String(limit.max);
}

function parseLimit(text: string): Limit {
  const [max, window] = text.split(/\s+in\s+/i);
  return { max: Number(max?.trim() || 0), window: window?.trim() || null };
}
