// The events and properties the source has sent, with the types seen and how often.
import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../../api/client";
import { useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading } from "../../components/Notes";

export function Schema({ sourceId }: { sourceId: number }) {
  const workspace = useWorkspace();
  const schema = useQuery({
    queryKey: ["observed-schema", workspace, sourceId],
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/sources/{source_id}/observed-schema", {
          params: { path: { workspace, source_id: sourceId } },
        }),
      ),
  });
  if (schema.isPending) return <Loading what="the observed schema" />;
  if (schema.error) return <ErrorNote error={schema.error} retry={() => schema.refetch()} />;
  if (schema.data.length === 0) {
    return (
      <Empty title="Nothing observed yet">
        <p>Once the source sends events, each event name and property appears here with the types seen.</p>
      </Empty>
    );
  }
  return (
    <div className="cards">
      {schema.data.map((event) => (
        <details key={`${event.type}:${event.name}`} className="card">
          <summary>
            <strong>{event.name}</strong> <span className="muted">({event.type}, {event.count.toLocaleString()} seen)</span>
          </summary>
          <table>
            <thead>
              <tr>
                <th scope="col">Property</th>
                <th scope="col">Types seen</th>
                <th scope="col">Count</th>
              </tr>
            </thead>
            <tbody>
              {event.properties.map((property) => (
                <tr key={property.path}>
                  <td>
                    <code>{property.path}</code>
                  </td>
                  <td>
                    {Object.entries(property.types)
                      .map(([type, count]) => `${type} (${count})`)
                      .join(", ")}
                  </td>
                  <td>{property.count.toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ))}
    </div>
  );
}
