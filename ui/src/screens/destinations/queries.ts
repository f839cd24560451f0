// The destinations API as TanStack queries, shared by the destination screens.
import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useWorkspace } from "../../app/session";
import type { JsonSchema } from "./schema";

export type Destination = components["schemas"]["DestinationView"];
export type Kind = components["schemas"]["KindView"];

/** Path parameters of a destination's routes. */
export function onDestination(workspace: string, destinationId: number) {
  return { params: { path: { workspace, destination_id: destinationId } } } as const;
}

export function destinationKey(workspace: string, destinationId: number) {
  return ["destination", workspace, destinationId] as const;
}

export function useKinds() {
  return useQuery({
    queryKey: ["destination-kinds"],
    queryFn: () => ok(api.GET("/api/v1/destination-kinds")),
    staleTime: Infinity, // the catalog changes only with a new release
  });
}

export function useDestination(destinationId: number) {
  const workspace = useWorkspace();
  return useQuery({
    queryKey: destinationKey(workspace, destinationId),
    queryFn: () =>
      ok(api.GET("/api/v1/workspaces/{workspace}/destinations/{destination_id}", onDestination(workspace, destinationId))),
  });
}

/** The queue now: refreshed every few seconds while a screen shows it. */
export function useHealth(destinationId: number, every = 3000) {
  const workspace = useWorkspace();
  return useQuery({
    queryKey: ["destination-health", workspace, destinationId],
    queryFn: () =>
      ok(
        api.GET(
          "/api/v1/workspaces/{workspace}/destinations/{destination_id}/health",
          onDestination(workspace, destinationId),
        ),
      ),
    refetchInterval: every,
  });
}

/** Every consent category the catalog's connectors name, to offer as choices. */
export function knownCategories(kinds: Kind[]): string[] {
  return [...new Set(kinds.flatMap((kind) => kind.categories))].sort();
}

export function schemaOf(kind: Kind): JsonSchema {
  return kind.config_schema as JsonSchema;
}
