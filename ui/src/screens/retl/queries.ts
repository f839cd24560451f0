// The reverse ETL API as TanStack queries, shared by its screens.
import { useQuery } from "@tanstack/react-query";
import { api, inWorkspace, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useWorkspace } from "../../app/session";

export type Model = components["schemas"]["ModelView"];
export type Sync = components["schemas"]["SyncView"];
export type Run = components["schemas"]["RunView"];
export type Preview = components["schemas"]["ModelPreviewView"];

/** Path parameters of a sync's routes. */
export function onSync(workspace: string, syncId: number) {
  return { params: { path: { workspace, sync_id: syncId } } } as const;
}

export function useModels() {
  const workspace = useWorkspace();
  return useQuery({
    queryKey: ["retl-models", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/reverse-etl/models", inWorkspace(workspace))),
  });
}

export function useSyncs() {
  const workspace = useWorkspace();
  return useQuery({
    queryKey: ["retl-syncs", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/reverse-etl/syncs", inWorkspace(workspace))),
  });
}

/** A sync and its runs, refreshed every two seconds while a run is asked for or going. */
export function useSync(syncId: number) {
  const workspace = useWorkspace();
  const path = onSync(workspace, syncId);
  const sync = useQuery({
    queryKey: ["retl-sync", workspace, syncId],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/reverse-etl/syncs/{sync_id}", path)),
    refetchInterval: (query) => (query.state.data?.run_requested || query.state.data?.running ? 2000 : false),
  });
  const busy = Boolean(sync.data?.run_requested || sync.data?.running);
  const runs = useQuery({
    queryKey: ["retl-runs", workspace, syncId],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/reverse-etl/syncs/{sync_id}/runs", path)),
    refetchInterval: busy ? 2000 : false,
  });
  return { sync, runs };
}

/** How a run went, in words. */
export function runSummary(run: Run): string {
  if (run.status === "running") return "Running…";
  if (run.status === "failed") return `Failed: ${run.reason ?? "no reason recorded"}`;
  if (run.status === "interrupted") return "Interrupted (its process stopped); the next run picked up";
  const parts = [`${run.added} added`, `${run.changed} changed`, `${run.removed} removed`];
  if (run.failed) parts.push(`${run.failed} failed`);
  return parts.join(", ");
}

export const MODES: Record<string, string> = {
  upsert: "Upsert: send new rows and changed rows",
  insert: "Insert: send new rows only",
  update: "Update: send changed rows only (rows seen on an earlier run)",
  mirror: "Mirror: also clear what a removed row had set",
};
