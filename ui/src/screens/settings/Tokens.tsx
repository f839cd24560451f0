// API tokens of the workspace: created with a role and an expiry, shown once, revoked here.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, inWorkspace, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useHeld, useWorkspace } from "../../app/session";
import { Copy } from "../../components/Copy";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { RoleField, roleLabel } from "./roles";
import { FormActions } from "../../components/FormActions";

type Token = components["schemas"]["TokenView"];
type Role = components["schemas"]["Role"];

export default function Tokens() {
  const workspace = useWorkspace();
  const [creating, setCreating] = useState(false);
  const tokens = useQuery({
    queryKey: ["tokens", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/tokens", inWorkspace(workspace))),
  });
  return (
    <>
      <PageHeader title="API tokens">
        {!creating && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Create a token
          </button>
        )}
      </PageHeader>
      <p className="muted">
        Scripts and other tools call the management API with a token. A token never does more than its role allows.
      </p>
      {creating && <NewToken onDone={() => setCreating(false)} />}
      {tokens.isPending ? (
        <Loading what="tokens" />
      ) : tokens.error ? (
        <ErrorNote error={tokens.error} retry={() => tokens.refetch()} />
      ) : tokens.data.length === 0 ? (
        <Empty title="No token yet">
          <p>Create a token for each script or tool, so that each can be revoked alone.</p>
        </Empty>
      ) : (
        <table className="wide">
          <caption className="sr-only">API tokens</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Belongs to</th>
              <th scope="col">Role</th>
              <th scope="col">Expires</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {tokens.data.map((token) => (
              <TokenRow key={token.id} token={token} />
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function stateOf(token: Token): string {
  if (token.revoked_at) return "Revoked";
  if (token.expired) return "Expired";
  return "Active";
}

function TokenRow({ token }: { token: Token }) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const revoke = useMutation({
    mutationFn: () =>
      ok(
        api.DELETE("/api/v1/workspaces/{workspace}/tokens/{token_id}", {
          params: { path: { workspace, token_id: token.id } },
        }),
      ),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["tokens", workspace] }),
  });
  const active = stateOf(token) === "Active";
  return (
    <tr>
      <td>{token.name}</td>
      <td>{token.kind === "service_account" ? "Service account" : (token.email ?? "a person")}</td>
      <td>{roleLabel(token.role)}</td>
      <td>{token.expires_at ? new Date(token.expires_at).toLocaleDateString() : "Never"}</td>
      <td>{stateOf(token)}</td>
      <td>
        {active && (
          <button
            type="button"
            className="danger"
            onClick={() => {
              if (window.confirm(`Revoke “${token.name}”? Whatever uses it stops working at once.`)) revoke.mutate();
            }}
          >
            Revoke
          </button>
        )}
        {revoke.error && <ErrorNote error={revoke.error} />}
      </td>
    </tr>
  );
}

function NewToken({ onDone }: { onDone: () => void }) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const held = useHeld();
  const canServiceAccount = useCan("people:write");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>((held?.role as Role) ?? "analyst");
  const [days, setDays] = useState("90");
  const [serviceAccount, setServiceAccount] = useState(false);
  const create = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/tokens", {
          ...inWorkspace(workspace),
          body: {
            name,
            role,
            expires_in_days: days === "never" ? null : Number(days),
            service_account: serviceAccount,
          },
        }),
      ),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["tokens", workspace] }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  if (create.data) {
    return (
      <section className="card" aria-labelledby="token-made">
        <h2 id="token-made">Token “{create.data.name}” created</h2>
        <p>Copy it now: it is shown only this once. Headwater keeps only a fingerprint of it.</p>
        <Copy label="API token" value={create.data.token} />
        <button type="button" onClick={onDone}>
          Done
        </button>
      </section>
    );
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="token-title">
      <h2 id="token-title">New API token</h2>
      <label>
        What is it for?
        <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="nightly import script" />
      </label>
      <RoleField value={role} onChange={setRole} />
      <label>
        Expires
        <select aria-label="Expires" value={days} onChange={(e) => setDays(e.target.value)}>
          <option value="7">in 7 days</option>
          <option value="30">in 30 days</option>
          <option value="90">in 90 days</option>
          <option value="365">in a year</option>
          <option value="never">never</option>
        </select>
      </label>
      {canServiceAccount && (
        <label className="inline">
          <input type="checkbox" checked={serviceAccount} onChange={(e) => setServiceAccount(e.target.checked)} />
          A service account's token (it outlives any one person's account)
        </label>
      )}
      <FormActions action="Create token" pending={create.isPending} error={create.error} onCancel={onDone} />
    </form>
  );
}
