// The workspace's sources, which several plan screens name and offer.
import { useQuery } from "@tanstack/react-query";
import { api, inWorkspace, ok } from "../../api/client";
import { useWorkspace } from "../../app/session";

export function useSources() {
  const workspace = useWorkspace();
  return useQuery({
    queryKey: ["sources", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/sources", inWorkspace(workspace))),
  });
}
