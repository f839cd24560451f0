// A webhook source's set-up: the URL to paste into the sending tool, how requests are checked,
// the secret shown once when Headwater made it, and a new secret on demand.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useLocation } from "react-router-dom";
import { api, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useWorkspace } from "../../app/session";
import { Copy } from "../../components/Copy";
import { ErrorNote } from "../../components/Notes";

export type Hook = components["schemas"]["HookView"];

const AUTH_WORDS: Record<string, string> = {
  none: "Anyone who knows the URL can send (no check).",
  bearer: "Each request must carry the token as a Bearer token.",
  basic: "Each request must carry the user name and password (HTTP Basic).",
  hmac: "Each request must be signed with the secret (HMAC).",
  ecdsa: "Each request must be signed with the tool's private key (checked with its public key).",
};

const TITLES: Record<string, string> = {
  stripe: "Stripe",
  shopify: "Shopify",
  hubspot: "HubSpot",
  typeform: "Typeform",
  calendly: "Calendly",
  twilio: "Twilio",
  sendgrid: "SendGrid",
};

export function hookUrl(hook: Hook): string {
  return hook.url ?? `${window.location.origin}${hook.path}`;
}

export function WebhookSetUp({ hook }: { hook: Hook }) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const canChange = useCan("sources:write");
  const shown = (useLocation().state as { secret?: string | null } | null)?.secret ?? null;
  const [secret, setSecret] = useState<string | null>(shown);
  const [given, setGiven] = useState("");
  const auth = hook.config.auth as { type: string; header?: string };
  const rotate = useMutation({
    mutationFn: ({ newUrl, value }: { newUrl: boolean; value: string | null }) =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/sources/{source_id}/hook/rotate", {
          params: { path: { workspace, source_id: hook.source_id } },
          body: { new_url: newUrl, new_secret: !newUrl, secret: value },
        }),
      ),
    onSuccess: async (rotated, asked) => {
      setSecret(asked.value === null ? rotated.secret : null);
      setGiven("");
      await queries.invalidateQueries({ queryKey: ["hook", workspace, hook.source_id] });
    },
  });
  return (
    <section aria-label="Set up">
      <h2>Webhook URL</h2>
      <p className="muted">Paste it where the tool asks for a webhook or endpoint URL.</p>
      <Copy label="webhook URL" value={hookUrl(hook)} />
      <h2>How requests are checked</h2>
      <p>
        {AUTH_WORDS[auth.type] ?? auth.type}
        {auth.header ? ` Header: ${auth.header}.` : ""}
        {hook.preset ? ` Set up for ${TITLES[hook.preset] ?? hook.preset}.` : ""}
      </p>
      {secret && (
        <div className="note" role="note">
          <p>Copy this secret into the tool now: it is stored encrypted and will not be shown again.</p>
          <Copy label="signing secret" value={secret} />
        </div>
      )}
      {canChange && (
        <>
          {auth.type !== "none" && (
            <form
              className="row wrap"
              aria-label="New secret"
              onSubmit={(event) => {
                event.preventDefault();
                rotate.mutate({ newUrl: false, value: given.trim() || null });
              }}
            >
              <label>
                {auth.type === "ecdsa" ? "New public key from the tool" : "New secret from the tool"}
                <input
                  value={given}
                  onChange={(e) => setGiven(e.target.value)}
                  autoComplete="off"
                  required={auth.type === "ecdsa"}
                  placeholder={auth.type === "ecdsa" ? "" : "Empty: one is made"}
                />
              </label>
              <button type="submit" disabled={rotate.isPending}>
                Replace the secret
              </button>
            </form>
          )}
          <p className="muted">A new URL stops the old one at once: update the tool right after.</p>
          <button type="button" onClick={() => rotate.mutate({ newUrl: true, value: null })} disabled={rotate.isPending}>
            Give it a new URL
          </button>
        </>
      )}
      {rotate.error ? <ErrorNote error={rotate.error} /> : null}
    </section>
  );
}
