// The people of the workspace and their roles; an owner adds, changes and removes them.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, inWorkspace, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useMe, useWorkspace } from "../../app/session";
import { Copy } from "../../components/Copy";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { ROLES, RoleField, roleLabel } from "./roles";
import { FormActions } from "../../components/FormActions";

type Member = components["schemas"]["WorkspaceMemberView"];
type Role = components["schemas"]["Role"];

export default function People() {
  const workspace = useWorkspace();
  const canManage = useCan("people:write");
  const [adding, setAdding] = useState(false);
  const members = useQuery({
    queryKey: ["members", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/members", inWorkspace(workspace))),
  });
  return (
    <>
      <PageHeader title="People">
        {canManage && !adding && (
          <button type="button" className="primary" onClick={() => setAdding(true)}>
            Add a person
          </button>
        )}
      </PageHeader>
      <p className="muted">
        Each person holds one role here. “Sees personal data” shows emails, names and other personal values unmasked.
      </p>
      {adding && <AddMember onDone={() => setAdding(false)} />}
      {members.isPending ? (
        <Loading what="people" />
      ) : members.error ? (
        <ErrorNote error={members.error} retry={() => members.refetch()} />
      ) : members.data.length === 0 ? (
        <Empty title="Nobody here yet">
          <p>{canManage ? "Add a person to give them a role in this workspace." : "Ask an owner to add people."}</p>
        </Empty>
      ) : (
        <table className="wide">
          <caption className="sr-only">People of the workspace</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Sees personal data</th>
              {canManage && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {members.data.map((member) => (
              <MemberRow key={member.user_id} member={member} canManage={canManage} />
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function MemberRow({ member, canManage }: { member: Member; canManage: boolean }) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const me = useMe();
  const path = { params: { path: { workspace, user_id: member.user_id } } };
  const refresh = () => queries.invalidateQueries({ queryKey: ["members", workspace] });
  const change = useMutation({
    mutationFn: (body: { role?: Role; pii_read?: boolean }) =>
      ok(api.PATCH("/api/v1/workspaces/{workspace}/members/{user_id}", { ...path, body })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE("/api/v1/workspaces/{workspace}/members/{user_id}", path)),
    onSuccess: refresh,
  });
  const email = member.email ?? "(invited, not signed in yet)";
  const self = me.data?.id === member.user_id;
  return (
    <>
      <tr>
        <td>
          {email}
          {member.disabled && <span className="badge">disabled</span>}
        </td>
        <td>
          {canManage ? (
            <select
              aria-label={`Role of ${email}`}
              value={member.role}
              onChange={(e) => change.mutate({ role: e.target.value as Role })}
            >
              {ROLES.map((role) => (
                <option key={role} value={role}>
                  {roleLabel(role)}
                </option>
              ))}
            </select>
          ) : (
            roleLabel(member.role)
          )}
        </td>
        <td>
          {canManage ? (
            <input
              type="checkbox"
              aria-label={`${email} sees personal data`}
              checked={member.pii_read}
              onChange={(e) => change.mutate({ pii_read: e.target.checked })}
            />
          ) : member.pii_read ? (
            "Yes"
          ) : (
            "No"
          )}
        </td>
        {canManage && (
          <td>
            <button
              type="button"
              className="danger"
              onClick={() => {
                if (window.confirm(`Remove ${email} from ${workspace}? Their account stays.`)) remove.mutate();
              }}
            >
              {self ? "Leave" : "Remove"}
            </button>
          </td>
        )}
      </tr>
      {(change.error || remove.error) && (
        <tr>
          <td colSpan={4}>
            <ErrorNote error={change.error ?? remove.error} />
          </td>
        </tr>
      )}
    </>
  );
}

function AddMember({ onDone }: { onDone: () => void }) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("analyst");
  const [piiRead, setPiiRead] = useState(false);
  const add = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/members", {
          ...inWorkspace(workspace),
          body: { email, role, pii_read: piiRead },
        }),
      ),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["members", workspace] }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate();
  };
  if (add.data) {
    return (
      <section className="card" aria-labelledby="added-title">
        <h2 id="added-title">{add.data.email} is a member</h2>
        {add.data.invite_link ? (
          <>
            <p>
              Send them this invitation link: it lets them choose a password. It works once, for 7 days, and is shown only
              now.
            </p>
            <Copy label="invitation link" value={add.data.invite_link} />
          </>
        ) : (
          <p>They already have an account: they see this workspace the next time they sign in.</p>
        )}
        <button type="button" onClick={onDone}>
          Done
        </button>
      </section>
    );
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="add-title">
      <h2 id="add-title">Add a person</h2>
      <label>
        Email
        <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <RoleField value={role} onChange={setRole} />
      <label className="inline">
        <input type="checkbox" checked={piiRead} onChange={(e) => setPiiRead(e.target.checked)} />
        Sees personal data (emails, names, addresses) unmasked
      </label>
      <FormActions action="Add" pending={add.isPending} error={add.error} onCancel={onDone} />
    </form>
  );
}
