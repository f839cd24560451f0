// Every destination of the workspace, with its state; a new one from the catalog.
import { useQuery } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { Link, useNavigate } from "react-router-dom";
import { api, inWorkspace, ok } from "../../api/client";
import { useCan, useWorkspace } from "../../app/session";
import { DataTable } from "../../components/DataTable";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { KindTitle } from "./KindTitle";
import type { Destination } from "./queries";

const COLUMNS: ColumnDef<Destination, any>[] = [
  {
    accessorKey: "name",
    header: "Name",
    // a link, so that the keyboard reaches each destination too
    cell: (c) => <Link to={String(c.row.original.id)}>{c.getValue()}</Link>,
  },
  { accessorKey: "kind", header: "Kind", cell: (c) => <KindTitle kind={c.getValue()} /> },
  { accessorKey: "enabled", header: "State", cell: (c) => (c.getValue() ? "Sending" : "Disabled") },
  { accessorKey: "created_at", header: "Created", cell: (c) => new Date(c.getValue()).toLocaleString() },
];

export default function Destinations() {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const canAdd = useCan("destinations:write");
  const destinations = useQuery({
    queryKey: ["destinations", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/destinations", inWorkspace(workspace))),
  });
  const base = `/w/${encodeURIComponent(workspace)}/destinations`;
  return (
    <>
      <PageHeader title="Destinations">
        {canAdd && (
          <button type="button" className="primary" onClick={() => navigate(`${base}/new`)}>
            Add a destination
          </button>
        )}
      </PageHeader>
      {destinations.isPending ? (
        <Loading what="destinations" />
      ) : destinations.error ? (
        <ErrorNote error={destinations.error} retry={() => destinations.refetch()} />
      ) : destinations.data.length === 0 ? (
        <Empty title="No destination yet">
          <p>
            A destination is a tool Headwater sends your events to as they arrive: an analytics or marketing tool, a
            webhook, a warehouse. Headwater retries what fails, keeps what it gives up on as dead letters, and lets you
            replay them.{" "}
            {canAdd ? "Add one and pick its kind from the catalog." : "Ask a developer of this workspace to add one."}
          </p>
        </Empty>
      ) : (
        <DataTable
          label="Destinations"
          rows={destinations.data}
          columns={COLUMNS}
          onRowClick={(destination) => navigate(`${base}/${destination.id}`)}
        />
      )}
    </>
  );
}
