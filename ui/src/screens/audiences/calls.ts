// The management API of audiences and of computed traits: the same routes under two paths.
import { api, ok } from "../../api/client";
import type { components } from "../../api/schema";

export type Computation = components["schemas"]["ComputationView"];
export type Member = components["schemas"]["MemberView"];
export type Change = components["schemas"]["ChangeView"];
export type MembersPage = components["schemas"]["MembersPage"];
export type ChangeTotal = components["schemas"]["ChangeTotalView"];
export type MembersChanged = components["schemas"]["MembersChangedView"];

/** How a list audience's members are named when added or removed. */
export type Reference = "user_id" | "email" | "anonymous_id" | "profile_id";

/** Whether an audience is a list audience (its members set by hand and by journeys). */
export function isList(item: { definition: unknown }): boolean {
  return (item.definition as { list?: unknown } | null)?.list === true;
}

export type Section = "audiences" | "computed-traits";

export interface Words {
  section: Section;
  title: string;
  noun: string;
  one: string;
}

export const WORDS: Record<Section, Words> = {
  audiences: { section: "audiences", title: "Audiences", noun: "audience", one: "an audience" },
  "computed-traits": { section: "computed-traits", title: "Computed traits", noun: "computed trait", one: "a computed trait" },
};

const W = "/api/v1/workspaces/{workspace}";

function base(section: Section) {
  return section === "audiences" ? (`${W}/audiences` as const) : (`${W}/computed-traits` as const);
}

function one(section: Section) {
  return section === "audiences" ? (`${W}/audiences/{key}` as const) : (`${W}/computed-traits/{key}` as const);
}

export interface Saved {
  key: string;
  name: string;
  description: string;
  subject: "user" | "account";
  definition: Record<string, unknown>;
  destinations: number[];
}

export function calls(section: Section, workspace: string) {
  const at = { params: { path: { workspace } } };
  const of = (key: string) => ({ params: { path: { workspace, key } } });
  return {
    list: () => ok(api.GET(base(section), at)),
    get: (key: string) => ok(api.GET(one(section), of(key))),
    create: (body: Saved) => ok(api.POST(base(section), { ...at, body })),
    update: (key: string, body: Partial<Omit<Saved, "key" | "subject">>) => ok(api.PATCH(one(section), { ...of(key), body })),
    remove: (key: string) => ok(api.DELETE(one(section), of(key))),
    preview: (definition: Record<string, unknown>, subject: "user" | "account") =>
      ok(
        api.POST(section === "audiences" ? `${W}/audiences/preview` : `${W}/computed-traits/preview`, {
          ...at,
          body: { definition, subject, sample: 20 },
        }),
      ),
    // JSON asked (the same route streams CSV with format=csv)
    members: (key: string, cursor: string | undefined): Promise<MembersPage> =>
      ok(
        api.GET(section === "audiences" ? `${W}/audiences/{key}/members` : `${W}/computed-traits/{key}/members`, {
          params: { path: { workspace, key }, query: { limit: 1000, ...(cursor ? { cursor } : {}) } },
        }),
      ) as Promise<MembersPage>,
    changes: (key: string, before: number | undefined) =>
      ok(
        api.GET(section === "audiences" ? `${W}/audiences/{key}/changes` : `${W}/computed-traits/{key}/changes`, {
          params: { path: { workspace, key }, query: { limit: 200, ...(before ? { before } : {}) } },
        }),
      ),
    /** Entered, exited and updated per UTC day since `since` (every day, zero included). */
    totals: (key: string, since: string) =>
      ok(
        api.GET(section === "audiences" ? `${W}/audiences/{key}/changes/totals` : `${W}/computed-traits/{key}/changes/totals`, {
          params: { path: { workspace, key }, query: { since, interval: "day" } },
        }),
      ),
    recompute: (key: string) =>
      ok(api.POST(section === "audiences" ? `${W}/audiences/{key}/recompute` : `${W}/computed-traits/{key}/recompute`, of(key))),
    /** Add members to (or remove them from) a list audience; a 207 answer lists those not found. */
    changeMembers: (key: string, action: "add" | "remove", by: Reference, values: string[]) =>
      ok(
        api.POST(action === "add" ? `${W}/audiences/{key}/members` : `${W}/audiences/{key}/members/remove`, {
          ...of(key),
          body: { members: values.map((value) => ({ [by]: value })) },
        }),
      ),
    /** Where the browser downloads every member as CSV (the API streams it). */
    csv: (key: string) =>
      `/api/v1/workspaces/${encodeURIComponent(workspace)}/${section}/${encodeURIComponent(key)}/members?format=csv`,
  };
}

export function destinations(workspace: string) {
  return ok(api.GET(`${W}/destinations`, { params: { path: { workspace } } }));
}
