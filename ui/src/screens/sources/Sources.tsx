// Every source of the workspace, and a new one in two fields.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { type FormEvent, useState } from "react";
import { useNavigate } from "react-router-dom";
import { api, inWorkspace, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useWorkspace } from "../../app/session";
import { DataTable } from "../../components/DataTable";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { FormActions } from "../../components/FormActions";
import { useCreateWebhook, WebhookFields } from "./NewWebhook";

type Source = components["schemas"]["SourceView"];

const KINDS: Record<Source["kind"], string> = { client: "Website or app", server: "Server", webhook: "Webhook" };

const COLUMNS: ColumnDef<Source, any>[] = [
  { accessorKey: "name", header: "Name" },
  { accessorKey: "kind", header: "Kind", cell: (c) => KINDS[c.getValue() as Source["kind"]] },
  { accessorKey: "enabled", header: "State", cell: (c) => (c.getValue() ? "Receiving" : "Disabled") },
  { accessorKey: "created_at", header: "Created", cell: (c) => new Date(c.getValue()).toLocaleString() },
];

export default function Sources() {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const canAdd = useCan("sources:write");
  const [adding, setAdding] = useState(false);
  const sources = useQuery({
    queryKey: ["sources", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/sources", inWorkspace(workspace))),
  });
  const open = (source: Source) => navigate(`/w/${encodeURIComponent(workspace)}/sources/${source.id}`);
  return (
    <>
      <PageHeader title="Sources">
        {canAdd && !adding && (
          <button type="button" className="primary" onClick={() => setAdding(true)}>
            Add a source
          </button>
        )}
      </PageHeader>
      {adding && <NewSource onDone={() => setAdding(false)} />}
      {sources.isPending ? (
        <Loading what="sources" />
      ) : sources.error ? (
        <ErrorNote error={sources.error} retry={() => sources.refetch()} />
      ) : sources.data.length === 0 ? (
        <Empty title="No source yet">
          <p>
            A source is where events come from: a website, an app, a server, or another tool's webhooks. Each has a
            write key that its SDK sends, or a URL the tool posts to.{" "}
            {canAdd ? "Add one to get its set-up snippet." : "Ask a developer of this workspace to add one."}
          </p>
        </Empty>
      ) : (
        <DataTable label="Sources" rows={sources.data} columns={COLUMNS} onRowClick={open} />
      )}
    </>
  );
}

function NewSource({ onDone }: { onDone: () => void }) {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [name, setName] = useState("");
  const [kind, setKind] = useState<Source["kind"]>("client");
  const create = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/sources", {
          ...inWorkspace(workspace),
          body: { name, kind: kind === "webhook" ? "server" : kind },
        }),
      ),
    onSuccess: async (source) => {
      await queries.invalidateQueries({ queryKey: ["sources", workspace] });
      onDone();
      navigate(`/w/${encodeURIComponent(workspace)}/sources/${source.id}`);
    },
  });
  const [webhook, setWebhook] = useState({ preset: "stripe", secret: "" });
  const createWebhook = useCreateWebhook(onDone);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (kind === "webhook") createWebhook.mutate({ name, ...webhook });
    else create.mutate();
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="new-source-title">
      <h2 id="new-source-title">New source</h2>
      <label>
        Name
        <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="Website" />
      </label>
      <fieldset>
        <legend>Where do events come from?</legend>
        <label className="inline">
          <input type="radio" name="kind" checked={kind === "client"} onChange={() => setKind("client")} />A website or
          a mobile app (the visitor's address is recorded)
        </label>
        <label className="inline">
          <input type="radio" name="kind" checked={kind === "server"} onChange={() => setKind("server")} />A server or
          a script
        </label>
        <label className="inline">
          <input type="radio" name="kind" checked={kind === "webhook"} onChange={() => setKind("webhook")} />
          Another tool's webhooks (Stripe, Shopify, HubSpot…)
        </label>
      </fieldset>
      {kind === "webhook" && <WebhookFields value={webhook} onChange={setWebhook} />}
      <FormActions
        action={kind === "webhook" ? "Create webhook source" : "Create source"}
        pending={create.isPending || createWebhook.isPending}
        error={kind === "webhook" ? createWebhook.error : create.error}
        onCancel={onDone}
      />
    </form>
  );
}
