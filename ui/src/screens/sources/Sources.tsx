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

type Source = components["schemas"]["SourceView"];

const COLUMNS: ColumnDef<Source, any>[] = [
  { accessorKey: "name", header: "Name" },
  { accessorKey: "kind", header: "Kind", cell: (c) => (c.getValue() === "client" ? "Website or app" : "Server") },
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
            A source is where events come from: a website, an app or a server. Each has a write key that its SDK sends.{" "}
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
  const [kind, setKind] = useState<"client" | "server">("client");
  const create = useMutation({
    mutationFn: () =>
      ok(api.POST("/api/v1/workspaces/{workspace}/sources", { ...inWorkspace(workspace), body: { name, kind } })),
    onSuccess: async (source) => {
      await queries.invalidateQueries({ queryKey: ["sources", workspace] });
      onDone();
      navigate(`/w/${encodeURIComponent(workspace)}/sources/${source.id}`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
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
      </fieldset>
      <FormActions action="Create source" pending={create.isPending} error={create.error} onCancel={onDone} />
    </form>
  );
}
