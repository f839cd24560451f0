// The accounts a user belongs to (group calls), or an account's users; each opens its profile.
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api, ok } from "../../api/client";
import { useWorkspace } from "../../app/session";
import type { Detail } from "./Profile";
import { profileLabel, profilePath } from "./shared";

export function Accounts({ detail }: { detail: Detail }) {
  const account = detail.kind === "account";
  if (detail.links.length === 0) {
    return (
      <p className="muted">
        {account
          ? "No user belongs to this account yet: a group call with its group id links a user to it."
          : "This user belongs to no account yet: a group call (a company, a team) links it to one."}
      </p>
    );
  }
  return (
    <ul className="plain-list" aria-label={account ? "Users" : "Accounts"}>
      {detail.links.map((link) => (
        <li key={link.profile_id}>
          <Linked profileId={link.profile_id} />
        </li>
      ))}
    </ul>
  );
}

function Linked({ profileId }: { profileId: string }) {
  const workspace = useWorkspace();
  const linked = useQuery({
    queryKey: ["profile", workspace, profileId],
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/profiles/{profile_id}", {
          params: { path: { workspace, profile_id: profileId }, query: { events: 1 } },
        }),
      ),
  });
  const traits = Object.fromEntries(Object.entries(linked.data?.traits ?? {}).map(([k, t]) => [k, t.value]));
  const label = linked.data ? profileLabel({ id: profileId, traits, identifiers: linked.data.identifiers }) : profileId;
  return <Link to={profilePath(workspace, profileId)}>{label}</Link>;
}
