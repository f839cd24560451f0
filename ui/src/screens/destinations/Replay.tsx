// Replay: dead letters or a time range queued again. The API answers at once with how many it
// queued; the progress is the queue draining, polled here until it is empty.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useWorkspace } from "../../app/session";
import { ErrorNote } from "../../components/Notes";
import { onDestination, useHealth } from "./queries";

type ReplayIn = components["schemas"]["DestinationReplayIn"];

export function useReplay(destinationId: number) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (body: ReplayIn) =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/destinations/{destination_id}/replay", {
          ...onDestination(workspace, destinationId),
          body,
        }),
      ),
    onSuccess: () =>
      Promise.all(
        ["dead-letters", "destination-health", "destination-stats"].map((key) =>
          queries.invalidateQueries({ queryKey: [key, workspace, destinationId] }),
        ),
      ),
  });
}

/** What a replay queued, and how much of the destination's queue is still waiting. */
export function ReplayProgress({ destinationId, replay }: { destinationId: number; replay: ReturnType<typeof useReplay> }) {
  const health = useHealth(destinationId, 1000);
  if (replay.error) return <ErrorNote error={replay.error} />;
  if (!replay.data) return null;
  const { queued, skipped } = replay.data;
  const waiting = health.data ? health.data.queue.pending + health.data.queue.retrying : queued;
  const sent = Math.max(0, queued - waiting);
  const more = skipped ? ` ${skipped} were already waiting in the queue and were not queued twice.` : "";
  return (
    <div className="note" role="status">
      {queued === 0 ? (
        <span>Nothing to replay.{more}</span>
      ) : waiting === 0 ? (
        <span>
          Replay done: {queued} event{queued === 1 ? "" : "s"} sent again; the queue is empty.{more}
        </span>
      ) : (
        <span>
          <label>
            Replaying: {sent} of {queued} sent
            <progress max={queued} value={sent} />
          </label>{" "}
          {waiting} waiting (failed sends are retried; what fails for good returns to the dead letters).{more}
        </span>
      )}
    </div>
  );
}
