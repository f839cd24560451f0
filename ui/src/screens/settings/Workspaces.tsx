// The workspaces the person holds a role in; an owner of the instance creates new ones.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, ok } from "../../api/client";
import { ME, useMe } from "../../app/session";
import { ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { roleLabel } from "./roles";
import { FormActions } from "../../components/FormActions";

export default function Workspaces() {
  const me = useMe();
  const [creating, setCreating] = useState(false);
  const workspaces = useQuery({ queryKey: ["workspaces"], queryFn: () => ok(api.GET("/api/v1/workspaces")) });
  const held = new Map((me.data?.workspaces ?? []).map((h) => [h.workspace, h]));
  const canCreate = me.data?.instance_owner ?? false;
  return (
    <>
      <PageHeader title="Workspaces">
        {canCreate && !creating && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Create a workspace
          </button>
        )}
      </PageHeader>
      <p className="muted">
        Each workspace keeps its own sources, profiles, audiences, destinations and people: nothing crosses between them.
        {!canCreate && " Only an owner of this Headwater creates workspaces."}
      </p>
      {creating && <NewWorkspace onDone={() => setCreating(false)} />}
      {workspaces.isPending ? (
        <Loading what="workspaces" />
      ) : workspaces.error ? (
        <ErrorNote error={workspaces.error} retry={() => workspaces.refetch()} />
      ) : (
        <table className="wide">
          <caption className="sr-only">Workspaces</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Slug</th>
              <th scope="col">Your role</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {workspaces.data.map((workspace) => (
              <tr key={workspace.slug}>
                <td>
                  <Link to={`/w/${encodeURIComponent(workspace.slug)}/overview`}>{workspace.name}</Link>
                </td>
                <td>
                  <code>{workspace.slug}</code>
                </td>
                <td>{roleLabel(held.get(workspace.slug)?.role ?? "")}</td>
                <td>{new Date(workspace.created_at).toLocaleDateString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function NewWorkspace({ onDone }: { onDone: () => void }) {
  const queries = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [edited, setEdited] = useState(false);
  const create = useMutation({
    mutationFn: () => ok(api.POST("/api/v1/workspaces", { body: { slug, name: name || null } })),
    onSuccess: async (workspace) => {
      await queries.invalidateQueries({ queryKey: ME });
      await queries.invalidateQueries({ queryKey: ["workspaces"] });
      onDone();
      navigate(`/w/${encodeURIComponent(workspace.slug)}/overview`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="new-workspace-title">
      <h2 id="new-workspace-title">New workspace</h2>
      <label>
        Name
        <input
          required
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            if (!edited) setSlug(slugOf(e.target.value));
          }}
          placeholder="Marketing EU"
        />
      </label>
      <label>
        Slug (in addresses and the API: lowercase letters, digits and “-”)
        <input
          required
          pattern="[a-z0-9][a-z0-9-]*"
          value={slug}
          onChange={(e) => {
            setEdited(true);
            setSlug(e.target.value);
          }}
        />
      </label>
      <FormActions action="Create workspace" pending={create.isPending} error={create.error} onCancel={onDone} />
    </form>
  );
}

function slugOf(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}
