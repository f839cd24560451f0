// Your own account: your password and the tokens you made.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, ok } from "../../api/client";
import { useMe } from "../../app/session";
import { ErrorNote, Loading, PageHeader } from "../../components/Notes";

export default function Account() {
  const me = useMe();
  return (
    <>
      <PageHeader title="Your account" />
      <p>
        Signed in as <strong>{me.data?.label}</strong>
        {me.data?.instance_owner && " (owner of this Headwater)"}.
      </p>
      {me.data?.kind === "user" && me.data.via === "session" && <Password />}
      <MyTokens />
    </>
  );
}

function Password() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const change = useMutation({
    mutationFn: () =>
      ok(api.PUT("/api/v1/me/password", { body: { current_password: current, new_password: next } })),
    onSuccess: () => {
      setCurrent("");
      setNext("");
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    change.mutate();
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="password-title">
      <h2 id="password-title">Change your password</h2>
      <p className="muted">Your other sessions end; this one stays signed in.</p>
      <label>
        Current password
        <input type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
      </label>
      <label>
        New password (at least 12 characters)
        <input
          type="password"
          autoComplete="new-password"
          minLength={12}
          required
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
      </label>
      {change.error && <ErrorNote error={change.error} />}
      {change.isSuccess && (
        <div className="note" role="status">
          Password changed.
        </div>
      )}
      <button type="submit" className="primary" disabled={change.isPending}>
        Change password
      </button>
    </form>
  );
}

function MyTokens() {
  const queries = useQueryClient();
  const tokens = useQuery({ queryKey: ["my-tokens"], queryFn: () => ok(api.GET("/api/v1/me/tokens")) });
  const revoke = useMutation({
    mutationFn: (id: number) => ok(api.DELETE("/api/v1/me/tokens/{token_id}", { params: { path: { token_id: id } } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["my-tokens"] }),
  });
  const active = (tokens.data ?? []).filter((token) => !token.revoked_at && !token.expired);
  return (
    <section className="card" aria-labelledby="my-tokens-title">
      <h2 id="my-tokens-title">Your API tokens</h2>
      {tokens.isPending ? (
        <Loading what="your tokens" />
      ) : tokens.error ? (
        <ErrorNote error={tokens.error} />
      ) : active.length === 0 ? (
        <p className="muted">You have no active token. Create one under “API tokens” of a workspace.</p>
      ) : (
        <ul className="plain-list">
          {active.map((token) => (
            <li key={token.id}>
              {token.name} <span className="muted">({token.role})</span>{" "}
              <button type="button" className="danger" onClick={() => revoke.mutate(token.id)}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      {revoke.error && <ErrorNote error={revoke.error} />}
    </section>
  );
}
