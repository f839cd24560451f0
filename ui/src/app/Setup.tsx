// A one-time link (/setup#hwl_...): the first owner's set-up or an invitation. The secret stays
// in the fragment, which browsers never send to a server or in a Referer.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useNavigate } from "react-router-dom";
import { api, ok } from "../api/client";
import { ApiError } from "../api/errors";
import { ErrorNote } from "../components/Notes";
import { ME } from "./session";

const MIN_PASSWORD = 12;

export function Setup() {
  const token = window.location.hash.slice(1);
  const [email, setEmail] = useState("");
  const [needsEmail, setNeedsEmail] = useState(false);
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const navigate = useNavigate();
  const queries = useQueryClient();
  const accept = useMutation({
    mutationFn: () =>
      ok(api.POST("/api/v1/auth/accept", { body: { token, password, email: needsEmail ? email : null } })),
    onSuccess: async () => {
      queries.clear();
      await queries.invalidateQueries({ queryKey: ME });
      navigate("/", { replace: true });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.code === "email_required") setNeedsEmail(true);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setMismatch(password !== again);
    if (password === again) accept.mutate();
  };
  if (!token) {
    return (
      <main className="centered">
        <div className="card narrow">
          <h1>This link is incomplete</h1>
          <p>Open the whole link you received (it ends with a long code after “#”), or ask for a new one.</p>
        </div>
      </main>
    );
  }
  const askingEmail = accept.error instanceof ApiError && accept.error.code === "email_required";
  return (
    <main className="centered">
      <form className="card narrow" onSubmit={submit} aria-labelledby="setup-title">
        <h1 id="setup-title">Choose your password</h1>
        <p className="muted">This link works once. After this you sign in with your email and this password.</p>
        {needsEmail && (
          <label>
            Your email (you will sign in with it)
            <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
        )}
        <label>
          New password (at least {MIN_PASSWORD} characters)
          <input
            type="password"
            autoComplete="new-password"
            minLength={MIN_PASSWORD}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <label>
          The same password again
          <input type="password" autoComplete="new-password" required value={again} onChange={(e) => setAgain(e.target.value)} />
        </label>
        {mismatch && (
          <div className="note error" role="alert">
            The two passwords differ. Type the same password twice.
          </div>
        )}
        {askingEmail ? (
          <div className="note" role="status">
            This link sets up the first owner of Headwater: add the email you will sign in with.
          </div>
        ) : (
          accept.error && <ErrorNote error={accept.error} />
        )}
        <button type="submit" className="primary" disabled={accept.isPending}>
          {accept.isPending ? "Saving…" : "Save and sign in"}
        </button>
      </form>
    </main>
  );
}
