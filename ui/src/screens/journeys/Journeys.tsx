// Every journey of the workspace with its state and version; a new one (key and name) for roles
// that may build them, opened in the editor at once.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { type FormEvent, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { useCan, useWorkspace } from "../../app/session";
import { DataTable } from "../../components/DataTable";
import { FormActions } from "../../components/FormActions";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { type Journey, journeyCalls, STATES } from "./calls";

const COLUMNS: ColumnDef<Journey, any>[] = [
  { accessorKey: "name", header: "Name", cell: (c) => <Link to={c.row.original.key}>{c.getValue()}</Link> },
  { accessorKey: "key", header: "Key", cell: (c) => <code>{c.getValue()}</code> },
  { accessorKey: "state", header: "State", cell: (c) => STATES[c.getValue() as Journey["state"]] },
  { accessorKey: "version", header: "Version", cell: (c) => c.getValue() ?? "never published" },
  { accessorKey: "updated_at", header: "Updated", cell: (c) => new Date(c.getValue()).toLocaleString() },
];

export default function Journeys() {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const canWrite = useCan("journeys:write");
  const [creating, setCreating] = useState(false);
  const all = useQuery({ queryKey: ["journeys", workspace], queryFn: () => journeyCalls(workspace).list() });
  const create = canWrite && !creating && (
    <button type="button" className="primary" onClick={() => setCreating(true)}>
      Create a journey
    </button>
  );
  return (
    <>
      <PageHeader title="Journeys">{all.data?.length ? create : null}</PageHeader>
      {creating && <NewJourney onDone={() => setCreating(false)} />}
      {all.isPending ? (
        <Loading what="journeys" />
      ) : all.error ? (
        <ErrorNote error={all.error} retry={() => all.refetch()} />
      ) : all.data.length === 0 ? (
        <Empty title="No journey yet">
          <p>
            A journey takes each person who does something, such as signing up, through steps you draw: wait a day or
            until they buy, split by what you know of them, send a message to a destination, update their traits. You
            build it as a draft, then publish it to run it.{" "}
            {canWrite ? "Choose “Create a journey” to draw the first one." : "Ask a marketer or an admin of this workspace to build the first one."}
          </p>
          {create}
        </Empty>
      ) : (
        <DataTable label="Journeys" rows={all.data} columns={COLUMNS} onRowClick={(j) => navigate(`/w/${encodeURIComponent(workspace)}/journeys/${j.key}`)} />
      )}
    </>
  );
}

function NewJourney({ onDone }: { onDone: () => void }) {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [key, setKey] = useState("");
  const [name, setName] = useState("");
  const create = useMutation({
    mutationFn: () => journeyCalls(workspace).create(key, name),
    onSuccess: async (journey) => {
      await queries.invalidateQueries({ queryKey: ["journeys", workspace] });
      navigate(`/w/${encodeURIComponent(workspace)}/journeys/${journey.key}`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <form className="card narrow" onSubmit={submit} aria-labelledby="new-journey-title">
      <h2 id="new-journey-title">New journey</h2>
      <label>
        Name
        <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="Welcome series" />
      </label>
      <label>
        Key
        <input
          required
          pattern="[a-z][a-z0-9_\-]{0,62}"
          aria-describedby="journey-key-help"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          placeholder="welcome"
        />
      </label>
      <small id="journey-key-help" className="muted">
        Lower case letters, digits, “-” and “_”, starting with a letter: how the API and files name it.
      </small>
      <FormActions action="Create" pending={create.isPending} error={create.error} onCancel={onDone} />
    </form>
  );
}
