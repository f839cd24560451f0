// Who is signed in, in which workspace, and what their role there allows.
import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router-dom";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";

export type Me = components["schemas"]["MeView"];
export type Held = components["schemas"]["HeldView"];

export const ME = ["me"] as const;

export function useMe() {
  return useQuery({ queryKey: ME, queryFn: () => ok(api.GET("/api/v1/me")), retry: false });
}

/** The workspace in the address (every screen but sign-in lives under /w/:workspace). */
export function useWorkspace(): string {
  const { workspace } = useParams();
  if (!workspace) throw new Error("a workspace screen outside /w/:workspace");
  return workspace;
}

/** What the caller holds in the current workspace (undefined while loading). */
export function useHeld(): Held | undefined {
  const workspace = useWorkspace();
  const me = useMe();
  return me.data?.workspaces.find((held) => held.workspace === workspace);
}

/** True when the caller's role allows `permission` here: what it does not allow is not offered. */
export function useCan(permission: string): boolean {
  return useHeld()?.permissions.includes(permission) ?? false;
}
