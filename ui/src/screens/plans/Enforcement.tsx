// Which sources a plan governs and how strictly: connect, change the settings, disconnect.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { api, inWorkspace, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading } from "../../components/Notes";
import { useSources } from "./sources";

type Source = components["schemas"]["SourceView"];
type Connection = components["schemas"]["ConnectionView"];
type Settings = Record<string, string>;

const CHOICES: { key: string; label: string; options: [string, string][] }[] = [
  {
    key: "violations",
    label: "When an event breaks its schema",
    options: [
      ["allow", "Let it through as sent"],
      ["flag", "Let it through, with its violations under context.violations"],
      ["omit", "Let it through without the offending fields"],
      ["block", "Block it: keep it in the quarantine"],
    ],
  },
  {
    key: "unplanned_events",
    label: "When a track event is not in the plan",
    options: [
      ["allow", "Let it through"],
      ["block", "Block it: keep it in the quarantine"],
    ],
  },
  {
    key: "unplanned_properties",
    label: "When a property is not in the plan",
    options: [
      ["allow", "Keep it"],
      ["omit", "Remove it"],
    ],
  },
];
const DEFAULTS: Settings = { violations: "allow", unplanned_events: "allow", unplanned_properties: "allow" };

export function Enforcement({ slug }: { slug: string }) {
  const workspace = useWorkspace();
  const sources = useSources();
  const connections = useQuery({
    queryKey: ["tracking-plan-sources", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/tracking-plan-sources", inWorkspace(workspace))),
  });
  if (sources.isPending || connections.isPending) return <Loading what="sources" />;
  if (sources.error) return <ErrorNote error={sources.error} retry={() => sources.refetch()} />;
  if (connections.error) return <ErrorNote error={connections.error} retry={() => connections.refetch()} />;
  if (sources.data.length === 0) {
    return (
      <Empty title="No source yet">
        <p>A plan checks the events of the sources it is connected to. Add a source under Sources first.</p>
      </Empty>
    );
  }
  return (
    <>
      <p className="muted">
        A connected source's events are checked against the newest version of this plan from the next batch on. A source
        follows one plan.
      </p>
      {sources.data.map((source) => (
        <SourceCard
          key={source.id}
          slug={slug}
          source={source}
          connection={connections.data.find((c) => c.source_id === source.id)}
        />
      ))}
    </>
  );
}

interface CardProps {
  slug: string;
  source: Source;
  connection: Connection | undefined;
}

function SourceCard({ slug, source, connection }: CardProps) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const canWrite = useCan("plans:write");
  const mine = connection?.plan === slug;
  // labels beside their selects: a label around one would take the chosen option into its name
  const id = useId();
  const [settings, setSettings] = useState<Settings>({ ...DEFAULTS, ...(mine ? connection.settings : {}) });
  const path = { params: { path: { workspace, source_id: source.id } } };
  const refresh = async () => {
    await queries.invalidateQueries({ queryKey: ["tracking-plan-sources", workspace] });
    await queries.invalidateQueries({ queryKey: ["tracking-plan", workspace, slug] });
    await queries.invalidateQueries({ queryKey: ["tracking-plans", workspace] });
  };
  const connect = useMutation({
    mutationFn: () =>
      ok(api.PUT("/api/v1/workspaces/{workspace}/sources/{source_id}/tracking-plan", { ...path, body: { plan: slug, settings } })),
    onSuccess: refresh,
  });
  const disconnect = useMutation({
    mutationFn: () => ok(api.DELETE("/api/v1/workspaces/{workspace}/sources/{source_id}/tracking-plan", path)),
    onSuccess: refresh,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    connect.mutate();
  };
  const state = mine ? "Connected to this plan" : connection ? `Follows the plan “${connection.plan}”` : "Not checked by any plan";
  return (
    <form className="card" onSubmit={submit} aria-labelledby={`source-${source.id}`}>
      <h2 id={`source-${source.id}`}>
        {source.name} <span className="badge">{state}</span>
      </h2>
      {canWrite ? (
        <>
          {CHOICES.map((choice) => (
            <div key={choice.key} className="field">
              <label htmlFor={`${id}-${choice.key}`}>{choice.label}</label>
              <select
                id={`${id}-${choice.key}`}
                value={settings[choice.key]}
                onChange={(e) => setSettings({ ...settings, [choice.key]: e.target.value })}
              >
                {choice.options.map(([value, words]) => (
                  <option key={value} value={value}>
                    {words}
                  </option>
                ))}
              </select>
            </div>
          ))}
          {(connect.error || disconnect.error) && <ErrorNote error={connect.error ?? disconnect.error} />}
          <div className="row">
            <button type="submit" className="primary" disabled={connect.isPending}>
              {mine ? "Save settings" : connection ? "Switch to this plan" : "Connect"}
            </button>
            {mine && (
              <button type="button" className="danger" onClick={() => disconnect.mutate()} disabled={disconnect.isPending}>
                Disconnect
              </button>
            )}
          </div>
        </>
      ) : (
        mine && (
          <ul>
            {CHOICES.map((choice) => (
              <li key={choice.key}>
                {choice.label}: {choice.options.find(([v]) => v === connection.settings[choice.key])?.[1] ?? "Let it through"}
              </li>
            ))}
          </ul>
        )
      )}
    </form>
  );
}
