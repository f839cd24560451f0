// One source: how to send to it (a write key, or a webhook's URL, rules and requests), its live
// events, what it rejected and what it has seen.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api, ok } from "../../api/client";
import { useCan, useWorkspace } from "../../app/session";
import { Copy } from "../../components/Copy";
import { ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { Tabs } from "../../components/Tabs";
import { HookRequests } from "./HookRequests";
import { HookRules } from "./HookRules";
import { Live } from "./Live";
import { Plugins } from "./Plugins";
import { Rejections } from "./Rejections";
import { Schema } from "./Schema";
import { snippets } from "./snippets";
import { WebhookSetUp } from "./Webhook";

export default function Source() {
  const workspace = useWorkspace();
  const sourceId = Number(useParams().sourceId);
  const canRead = useCan("data:read");
  const source = useQuery({
    queryKey: ["source", workspace, sourceId],
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/sources/{source_id}", {
          params: { path: { workspace, source_id: sourceId } },
        }),
      ),
  });
  const isHook = source.data?.kind === "webhook";
  const hook = useQuery({
    queryKey: ["hook", workspace, sourceId],
    enabled: isHook,
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/sources/{source_id}/hook", {
          params: { path: { workspace, source_id: sourceId } },
        }),
      ),
  });
  if (source.isPending || (isHook && hook.isPending)) return <Loading what="the source" />;
  if (source.error) return <ErrorNote error={source.error} retry={() => source.refetch()} />;
  if (isHook && hook.error) return <ErrorNote error={hook.error} retry={() => hook.refetch()} />;
  const webhookTabs =
    isHook && hook.data
      ? [
          { id: "setup", label: "Set up", content: <WebhookSetUp hook={hook.data} /> },
          ...(canRead ? [{ id: "requests", label: "Requests", content: <HookRequests sourceId={sourceId} /> }] : []),
          { id: "rules", label: "Rules", content: <HookRules hook={hook.data} /> },
        ]
      : null;
  const tabs = [
    ...(webhookTabs ?? [{ id: "setup", label: "Set up", content: <SetUp writeKey={source.data.write_key} /> }]),
    ...(source.data.kind === "client"
      ? [{ id: "plugins", label: "Browser plugins", content: <Plugins sourceId={sourceId} /> }]
      : []),
    ...(canRead
      ? [
          { id: "live", label: "Live events", content: <Live sourceId={sourceId} /> },
          { id: "rejections", label: "Rejections", content: <Rejections sourceId={sourceId} /> },
          { id: "schema", label: "Observed schema", content: <Schema sourceId={sourceId} /> },
        ]
      : []),
  ];
  return (
    <>
      <p className="crumbs">
        <Link to={`/w/${encodeURIComponent(workspace)}/sources`}>Sources</Link> ›
      </p>
      <PageHeader title={source.data.name}>
        <span className="badge">{source.data.enabled ? "Receiving" : "Disabled"}</span>
      </PageHeader>
      <Tabs label="Source" tabs={tabs} />
    </>
  );
}

function SetUp({ writeKey }: { writeKey: string }) {
  const all = snippets(window.location.origin, writeKey);
  const [chosen, setChosen] = useState(all[0]!.id);
  const snippet = all.find((s) => s.id === chosen) ?? all[0]!;
  return (
    <section aria-label="Set up">
      <h2>Write key</h2>
      <p className="muted">The SDK sends it with every event; it only lets events in, it reads nothing.</p>
      <Copy label="write key" value={writeKey} />
      <h2>Send events</h2>
      <div className="segmented" role="group" aria-label="SDK">
        {all.map((s) => (
          <button key={s.id} type="button" aria-pressed={s.id === chosen} onClick={() => setChosen(s.id)}>
            {s.label}
          </button>
        ))}
      </div>
      <Copy label={`${snippet.label} set-up`} value={snippet.code} block />
      <p className="muted">Events appear under “Live events” within a second of being sent.</p>
    </section>
  );
}
