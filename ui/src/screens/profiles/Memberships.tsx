// The audiences a profile is in (since when), its computed traits, and the history of both.
import { useInfiniteQuery } from "@tanstack/react-query";
import { api, ok } from "../../api/client";
import { useWorkspace } from "../../app/session";
import { ErrorNote, Loading } from "../../components/Notes";
import { shown, when } from "./shared";

export function Memberships({ profileId }: { profileId: string }) {
  const workspace = useWorkspace();
  const found = useInfiniteQuery({
    queryKey: ["profile-memberships", workspace, profileId],
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam }) =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/profiles/{profile_id}/audiences", {
          params: { path: { workspace, profile_id: profileId }, query: { before: pageParam, limit: 100 } },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  if (found.isPending) return <Loading what="audiences" />;
  if (found.error) return <ErrorNote error={found.error} retry={() => found.refetch()} />;
  const first = found.data.pages[0]!;
  const history = found.data.pages.flatMap((page) => page.history);
  const traits = Object.entries(first.traits);
  return (
    <section aria-label="Audiences and computed traits">
      <h2>Audiences</h2>
      {first.audiences.length === 0 ? (
        <p className="muted">In no audience now. An audience takes the profile in when it matches its condition.</p>
      ) : (
        <ul className="plain-list" aria-label="Audiences">
          {first.audiences.map((a) => (
            <li key={a.key}>
              {a.name} <span className="muted small">since {when(a.since)}</span>
            </li>
          ))}
        </ul>
      )}
      <h2>Computed traits</h2>
      {traits.length === 0 ? (
        <p className="muted">No computed trait has a value for this profile.</p>
      ) : (
        <ul className="plain-list" aria-label="Computed traits">
          {traits.map(([key, value]) => (
            <li key={key}>
              {key}: {shown(value)}
            </li>
          ))}
        </ul>
      )}
      <h2>History</h2>
      {history.length === 0 ? (
        <p className="muted">No entry, exit or change yet.</p>
      ) : (
        <table className="wide" aria-label="History">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Audience or trait</th>
              <th scope="col">Change</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {history.map((change) => (
              <tr key={change.id}>
                <td>{when(change.at)}</td>
                <td>{change.key}</td>
                <td>{change.change}</td>
                <td>
                  {shown(change.value)}
                  {change.previous !== null && change.previous !== undefined && (
                    <span className="muted small"> (was {shown(change.previous)})</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {found.hasNextPage && (
        <button type="button" onClick={() => found.fetchNextPage()} disabled={found.isFetchingNextPage}>
          Load older changes
        </button>
      )}
    </section>
  );
}
