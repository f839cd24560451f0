// Sign in with email and password: the server sets the session and CSRF cookies.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";
import { api, ok } from "../api/client";
import { ErrorNote } from "../components/Notes";
import { ME } from "./session";

export function Login() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const navigate = useNavigate();
  const [search] = useSearchParams();
  const queries = useQueryClient();
  const signIn = useMutation({
    mutationFn: () => ok(api.POST("/api/v1/auth/login", { body: { email, password } })),
    onSuccess: async () => {
      queries.clear();
      await queries.invalidateQueries({ queryKey: ME });
      const next = search.get("next");
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/", { replace: true });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate();
  };
  return (
    <main className="centered">
      <form className="card narrow" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Headwater</h1>
        <label>
          Email
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {signIn.error && <ErrorNote error={signIn.error} />}
        <button type="submit" className="primary" disabled={signIn.isPending}>
          {signIn.isPending ? "Signing in…" : "Sign in"}
        </button>
        <p className="muted small">
          No account? An owner of your workspace invites you; the invitation link lets you choose your password.
        </p>
      </form>
    </main>
  );
}
