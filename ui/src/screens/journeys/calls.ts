// The journeys API as the screens use it. Saving a draft answers more than an error message:
// the latest revision when someone saved in between, the problems when a part is malformed.
import { api, inWorkspace, ok } from "../../api/client";
import { ApiError } from "../../api/errors";
import type { components } from "../../api/schema";
import type { Document, Problem } from "./graph";

export type Journey = components["schemas"]["JourneyView"];
export type Detail = Omit<components["schemas"]["JourneyDetailView"], "draft"> & { draft: Document };
export type Version = components["schemas"]["JourneyVersionView"];
export type NodeType = components["schemas"]["NodeTypeView"];
export type Stats = components["schemas"]["JourneyStatsView"];
export type NodeStats = components["schemas"]["NodeStatsView"];

const BASE = "/api/v1/workspaces/{workspace}/journeys";
const ONE = `${BASE}/{key}` as const;

/** A save refused: `conflict` when someone saved first, `problems` when a part is malformed. */
export class SaveRefused extends ApiError {
  constructor(
    error: ApiError,
    readonly conflict: boolean,
    readonly problems: Problem[],
  ) {
    super(error.status, error.code, error.message, error.fields);
  }
}

function one(workspace: string, key: string) {
  return { params: { path: { workspace, key } } };
}

export function journeyCalls(workspace: string) {
  return {
    list: () => ok(api.GET(BASE, inWorkspace(workspace))),
    create: (key: string, name: string) =>
      ok(api.POST(BASE, { ...inWorkspace(workspace), body: { key, name } })) as Promise<Detail>,
    get: (key: string) => ok(api.GET(ONE, one(workspace, key))) as Promise<Detail>,
    versions: (key: string) => ok(api.GET(`${ONE}/versions`, one(workspace, key))),
    version: (key: string, version: number) =>
      ok(api.GET(`${ONE}/versions/{version}`, { params: { path: { workspace, key, version } } })) as Promise<
        Version & { document: Document }
      >,
    save: async (key: string, revision: number, document: Document): Promise<Detail> => {
      const answer = await api.PUT(`${ONE}/draft`, { ...one(workspace, key), body: { revision, document } });
      if (answer.response.ok) return answer.data as Detail;
      const body = (answer.error ?? {}) as { problems?: Problem[] };
      const error = ApiError.of(answer.response.status, answer.error);
      throw new SaveRefused(error, error.code === "draft_changed", body.problems ?? []);
    },
    publish: (key: string, note: string) =>
      ok(api.POST(`${ONE}/publish`, { ...one(workspace, key), body: { note } })) as Promise<Detail>,
    pause: (key: string) => ok(api.POST(`${ONE}/pause`, one(workspace, key))) as Promise<Detail>,
    resume: (key: string) => ok(api.POST(`${ONE}/resume`, one(workspace, key))) as Promise<Detail>,
    archive: (key: string) => ok(api.POST(`${ONE}/archive`, one(workspace, key))) as Promise<Detail>,
    nodeTypes: () => ok(api.GET("/api/v1/journey-node-types")),
    stats: (key: string, version: number | null) =>
      ok(
        api.GET(`${ONE}/stats`, {
          params: { path: { workspace, key }, query: version === null ? {} : { version } },
        }),
      ),
  };
}

/** Where the journey (its draft, or a version) downloads as YAML. */
export function exportUrl(workspace: string, key: string, version: number | null): string {
  const path = `/api/v1/workspaces/${encodeURIComponent(workspace)}/journeys/${encodeURIComponent(key)}/export`;
  return `${path}?format=yaml${version === null ? "" : `&version=${version}`}`;
}

export const STATES: Record<Journey["state"], string> = {
  draft: "Draft",
  live: "Live",
  paused: "Paused",
  archived: "Archived",
};
