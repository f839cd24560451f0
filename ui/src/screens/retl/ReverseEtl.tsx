// Reverse ETL: the workspace's syncs and models, each list saying what to do when empty.
import type { ColumnDef } from "@tanstack/react-table";
import { Link, useNavigate } from "react-router-dom";
import { useCan, useWorkspace } from "../../app/session";
import { DataTable } from "../../components/DataTable";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { type Model, runSummary, type Sync, useModels, useSyncs } from "./queries";

const SYNC_COLUMNS: ColumnDef<Sync, any>[] = [
  { accessorKey: "name", header: "Sync", cell: (c) => <Link to={`syncs/${c.row.original.id}`}>{c.getValue()}</Link> },
  { accessorKey: "target", header: "Sends to", cell: (c) => targetLabel(c.row.original) },
  { accessorKey: "mode", header: "Mode" },
  {
    id: "last",
    header: "Last run",
    cell: (c) => (c.row.original.last_run ? runSummary(c.row.original.last_run) : "Never run"),
  },
  {
    accessorKey: "next_run_at",
    header: "Next run",
    cell: (c) => (c.getValue() ? new Date(c.getValue()).toLocaleString() : "By hand"),
  },
];

const MODEL_COLUMNS: ColumnDef<Model, any>[] = [
  { accessorKey: "name", header: "Model" },
  { accessorKey: "connection", header: "Database" },
  { accessorKey: "primary_key", header: "Primary key" },
];

export function targetLabel(sync: Sync): string {
  if (sync.target === "destination") return `Destination ${sync.destination_id} (${sync.message_type})`;
  if (sync.target === "events") return "Events (track)";
  return sync.message_type === "group" ? "Profiles (group)" : "Profiles (identify)";
}

export default function ReverseEtl() {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const canEdit = useCan("sources:write");
  const models = useModels();
  const syncs = useSyncs();
  const base = `/w/${encodeURIComponent(workspace)}/reverse-etl`;
  const hasModels = (models.data?.length ?? 0) > 0;
  return (
    <>
      <PageHeader title="Reverse ETL">
        {canEdit && (
          <button type="button" onClick={() => navigate(`${base}/models/new`)}>
            New model
          </button>
        )}
        {canEdit && hasModels && (
          <button type="button" className="primary" onClick={() => navigate(`${base}/syncs/new`)}>
            New sync
          </button>
        )}
      </PageHeader>
      <h2 className="section-title">Syncs</h2>
      {syncs.isPending ? (
        <Loading what="syncs" />
      ) : syncs.error ? (
        <ErrorNote error={syncs.error} retry={() => syncs.refetch()} />
      ) : syncs.data.length === 0 ? (
        <Empty title="No sync yet">
          <p>
            A sync sends the rows of a model to Headwater profiles, as events, or to a destination, on a schedule or
            when you run it. Each run sends only the rows that changed since the last one.{" "}
            {!canEdit
              ? "Ask a developer of this workspace to set one up."
              : hasModels
                ? "Create a sync from one of your models."
                : "Start with a model: the query that picks the rows to send."}
          </p>
        </Empty>
      ) : (
        <DataTable
          label="Syncs"
          rows={syncs.data}
          columns={SYNC_COLUMNS}
          height={300}
          onRowClick={(sync) => navigate(`${base}/syncs/${sync.id}`)}
        />
      )}
      <h2 className="section-title">Models</h2>
      {models.isPending ? (
        <Loading what="models" />
      ) : models.error ? (
        <ErrorNote error={models.error} retry={() => models.refetch()} />
      ) : models.data.length === 0 ? (
        <Empty title="No model yet">
          <p>
            A model is a SQL query on your own database (your warehouse or your product's database) that returns one
            row per customer, account or event, with a column that names each row.{" "}
            {canEdit ? "Create one with “New model”: you can preview its rows before saving." : ""}
          </p>
        </Empty>
      ) : (
        <DataTable label="Models" rows={models.data} columns={MODEL_COLUMNS} height={240} />
      )}
    </>
  );
}
