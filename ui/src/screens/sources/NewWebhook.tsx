// A new webhook source's fields: the tool that sends it (a preset) or rules written later, and
// the secret the tool shows (or one Headwater makes). The form around them (Sources) creates it.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router-dom";
import { api, inWorkspace, ok } from "../../api/client";
import { useWorkspace } from "../../app/session";
import { ErrorNote, Loading } from "../../components/Notes";

export const CUSTOM = "custom";
const CUSTOM_CONFIG = { auth: { type: "hmac", header: "X-Signature", algorithm: "sha256", encoding: "hex" }, rules: [] };

export interface WebhookChoice {
  preset: string;
  secret: string;
}

/** Creates the source, then opens it with the generated secret (shown once) in its state. */
export function useCreateWebhook(onDone: () => void) {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: ({ name, preset, secret }: WebhookChoice & { name: string }) =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/webhook-sources", {
          ...inWorkspace(workspace),
          body: {
            name,
            preset: preset === CUSTOM ? null : preset,
            config: preset === CUSTOM ? CUSTOM_CONFIG : null,
            secret: secret.trim() || null,
          },
        }),
      ),
    onSuccess: async (made) => {
      await queries.invalidateQueries({ queryKey: ["sources", workspace] });
      onDone();
      navigate(`/w/${encodeURIComponent(workspace)}/sources/${made.hook.source_id}`, {
        state: { secret: made.secret },
      });
    },
  });
}

export function WebhookFields({ value, onChange }: { value: WebhookChoice; onChange: (v: WebhookChoice) => void }) {
  const workspace = useWorkspace();
  const presets = useQuery({
    queryKey: ["hook-presets", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/hook-presets", inWorkspace(workspace))),
  });
  if (presets.isPending) return <Loading what="the tools Headwater knows" />;
  if (presets.error) return <ErrorNote error={presets.error} retry={() => presets.refetch()} />;
  const chosen = presets.data.find((p) => p.name === value.preset);
  return (
    <>
      <label>
        Sending tool
        <select value={value.preset} onChange={(e) => onChange({ ...value, preset: e.target.value })}>
          {presets.data.map((p) => (
            <option key={p.name} value={p.name}>
              {p.title}
            </option>
          ))}
          <option value={CUSTOM}>Another tool (write the rules yourself)</option>
        </select>
      </label>
      <label>
        {chosen ? chosen.secret_label : "Signing secret"}
        <input
          value={value.secret}
          onChange={(e) => onChange({ ...value, secret: e.target.value })}
          placeholder={
            chosen?.secret_field === "public_key" ? "Paste it from the tool's settings" : "Leave empty to have one made"
          }
          autoComplete="off"
        />
      </label>
      <p className="muted">
        {chosen
          ? `Headwater checks each request with ${chosen.title}'s own signature and turns what it sends into events. `
          : "Headwater checks an HMAC signature; you write the rules that turn requests into events. "}
        The secret is stored encrypted and never shown again.
      </p>
    </>
  );
}
