// Every audience (or computed trait) of the workspace, with its size; new ones for roles that
// may build them.
import { useQuery } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { Link, useNavigate } from "react-router-dom";
import { useCan, useWorkspace } from "../../app/session";
import { DataTable } from "../../components/DataTable";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { calls, type Computation, isList, type Section, WORDS } from "./calls";

const COLUMNS: ColumnDef<Computation, any>[] = [
  // a link, so that the keyboard reaches each one (the row's click is a shortcut for the mouse)
  { accessorKey: "name", header: "Name", cell: (c) => <Link to={c.row.original.key}>{c.getValue()}</Link> },
  { accessorKey: "key", header: "Key", cell: (c) => <code>{c.getValue()}</code> },
  { accessorKey: "size", header: "Size", cell: (c) => (c.getValue() ?? 0).toLocaleString() },
  { accessorKey: "subject", header: "Of", cell: (c) => (c.getValue() === "account" ? "Accounts" : "People") },
  {
    accessorKey: "computed_at",
    header: "Computed",
    // a list audience is never computed: its members are set by hand and by journeys
    cell: (c) => (isList(c.row.original) ? "a list, set by hand" : c.getValue() ? new Date(c.getValue()).toLocaleString() : "not yet"),
  },
];

function List({ section }: { section: Section }) {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const canWrite = useCan("audiences:write");
  const words = WORDS[section];
  const all = useQuery({ queryKey: [section, workspace], queryFn: () => calls(section, workspace).list() });
  const base = `/w/${encodeURIComponent(workspace)}/${section}`;
  return (
    <>
      <PageHeader title={words.title}>
        {canWrite && (
          <Link className="button primary" to={`${base}/new`}>
            New {words.noun}
          </Link>
        )}
      </PageHeader>
      {all.isPending ? (
        <Loading what={words.title.toLowerCase()} />
      ) : all.error ? (
        <ErrorNote error={all.error} retry={() => all.refetch()} />
      ) : all.data.length === 0 ? (
        <Empty title={`No ${words.noun} yet`}>
          {section === "audiences" ? (
            <p>
              An audience is the set of people (or accounts) matching a condition, such as “performed Order Completed at
              least 3 times in 30 days” or “plan is pro”. Headwater keeps it current as events arrive and sends entries
              and exits to the destinations you choose. A list audience is kept by hand instead: you (and journeys) add
              people to it and remove them.{" "}
              {canWrite
                ? "Choose “New audience”, build its condition, preview its size, then save it."
                : "Ask a marketer or an admin of this workspace to build the first one."}
            </p>
          ) : (
            <p>
              A computed trait is one value per person computed from their events, such as the number of orders in 90 days
              or the most viewed category. It can be used in audiences and sent to destinations.{" "}
              {canWrite
                ? "Choose “New computed trait”, pick what to compute, preview it, then save it."
                : "Ask a marketer or an admin of this workspace to create the first one."}
            </p>
          )}
        </Empty>
      ) : (
        <DataTable label={words.title} rows={all.data} columns={COLUMNS} onRowClick={(c) => navigate(`${base}/${c.key}`)} />
      )}
    </>
  );
}

export function Audiences() {
  return <List section="audiences" />;
}

export function ComputedTraits() {
  return <List section="computed-traits" />;
}
