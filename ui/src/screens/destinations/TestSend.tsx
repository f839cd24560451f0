// Send one sample event now (not queued, not retried) and show what the destination answered.
import { useMutation } from "@tanstack/react-query";
import { api, ok } from "../../api/client";
import { useWorkspace } from "../../app/session";
import { ErrorNote } from "../../components/Notes";
import { Exchange } from "./Exchange";
import { onDestination } from "./queries";

const OUTCOMES = {
  delivered: "Delivered: the destination accepted the test event.",
  retry: "Not delivered yet: the destination asked to try again later.",
  failed: "Failed: the destination refused the test event.",
} as const;

export function TestSend({ destinationId }: { destinationId: number }) {
  const workspace = useWorkspace();
  const send = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/destinations/{destination_id}/test", {
          ...onDestination(workspace, destinationId),
          body: {},
        }),
      ),
  });
  return (
    <section aria-label="Test send">
      <p className="muted">
        Sends one sample track event to the destination now, with its current settings. It is not queued nor retried,
        and it does not count in the figures.
      </p>
      <button type="button" className="primary" onClick={() => send.mutate()} disabled={send.isPending}>
        Send a test event
      </button>
      {send.error ? <ErrorNote error={send.error} /> : null}
      {send.data && (
        <div className="card" role="status" aria-label="Test result">
          <p>
            <strong>{OUTCOMES[send.data.outcome]}</strong>
            {send.data.error ? ` ${send.data.error}` : ""}
          </p>
          <Exchange exchange={send.data.exchange} />
        </div>
      )}
    </section>
  );
}
