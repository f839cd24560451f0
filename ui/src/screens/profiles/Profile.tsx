// One profile: its traits (and when each changed), its events, its identity graph with the
// merges that built it, its accounts, and the audiences and computed traits it is in.
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { api, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useWorkspace } from "../../app/session";
import { Copy } from "../../components/Copy";
import { ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { Tabs } from "../../components/Tabs";
import { Accounts } from "./Accounts";
import { IdentityGraph } from "./IdentityGraph";
import { ProfileJourneys } from "./Journeys";
import { Memberships } from "./Memberships";
import { PersonalNote, profileLabel, profilePath, shown, when } from "./shared";
import { Timeline } from "./Timeline";

export type Detail = components["schemas"]["ProfileDetailView"];

export default function Profile() {
  const workspace = useWorkspace();
  const profileId = useParams().profileId ?? "";
  const canAudiences = useCan("audiences:read");
  const profile = useQuery({
    queryKey: ["profile", workspace, profileId],
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/profiles/{profile_id}", {
          params: { path: { workspace, profile_id: profileId }, query: { events: 1 } },
        }),
      ),
  });
  if (profile.isPending) return <Loading what="the profile" />;
  if (profile.error) return <ErrorNote error={profile.error} retry={() => profile.refetch()} />;
  const detail = profile.data;
  const traits = Object.fromEntries(Object.entries(detail.traits).map(([name, t]) => [name, t.value]));
  const tabs = [
    { id: "traits", label: "Traits", content: <Traits detail={detail} /> },
    { id: "events", label: "Events", content: <Timeline profileId={detail.id} /> },
    { id: "identity", label: "Identity graph", content: <IdentityGraph detail={detail} /> },
    {
      id: "accounts",
      label: detail.kind === "account" ? "Users" : "Accounts",
      content: <Accounts detail={detail} />,
    },
    ...(canAudiences
      ? [{ id: "audiences", label: "Audiences", content: <Memberships profileId={detail.id} /> }]
      : []),
    { id: "journeys", label: "Journeys", content: <ProfileJourneys profileId={detail.id} /> },
  ];
  return (
    <>
      <p className="crumbs">
        <Link to={`/w/${encodeURIComponent(workspace)}/profiles`}>Profiles</Link> ›
      </p>
      <PageHeader title={profileLabel({ id: detail.id, traits, identifiers: detail.identifiers })}>
        <span className="badge">{detail.kind === "account" ? "Account" : "User"}</span>
      </PageHeader>
      {detail.requested_id !== detail.id && (
        <p className="note">
          {detail.requested_id} was merged into this profile.{" "}
          <Link to={profilePath(workspace, detail.id)}>Open it under its own id</Link>
        </p>
      )}
      <p className="muted small">
        First seen {when(detail.first_seen)} · last seen {when(detail.last_seen)}
      </p>
      <Copy label="Profile id" value={detail.id} />
      <PersonalNote />
      <Tabs label="Profile" tabs={tabs} />
    </>
  );
}

function Traits({ detail }: { detail: Detail }) {
  const names = Object.keys(detail.traits);
  if (names.length === 0) {
    return (
      <p className="muted">
        No traits yet: an identify call with traits (a name, an email, a plan…) sets them, and each later one
        updates them.
      </p>
    );
  }
  return (
    <table className="wide" aria-label="Traits">
      <thead>
        <tr>
          <th scope="col">Trait</th>
          <th scope="col">Value</th>
          <th scope="col">Changed</th>
        </tr>
      </thead>
      <tbody>
        {names.map((name) => {
          const trait = detail.traits[name]!;
          return (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td>{shown(trait.value)}</td>
              <td>
                {when(trait.updated_at)}
                {trait.message_id && <span className="muted small"> by event {trait.message_id}</span>}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
