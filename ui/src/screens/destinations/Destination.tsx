// One destination: its delivery pipeline, latest errors, dead letters, a test send and its
// settings; enable, disable and delete for the roles that may change it.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ok } from "../../api/client";
import { useCan, useWorkspace } from "../../app/session";
import { ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { Tabs } from "../../components/Tabs";
import { DeadLetters } from "./DeadLetters";
import { Errors } from "./Errors";
import { Pipeline } from "./Pipeline";
import { KindTitle } from "./KindTitle";
import { type Destination as Found, destinationKey, onDestination, useDestination, useHealth } from "./queries";
import { Settings } from "./Settings";
import { TestSend } from "./TestSend";

export default function Destination() {
  const destinationId = Number(useParams().destinationId);
  const canWrite = useCan("destinations:write");
  const destination = useDestination(destinationId);
  if (destination.isPending) return <Loading what="the destination" />;
  if (destination.error) return <ErrorNote error={destination.error} retry={() => destination.refetch()} />;
  const found = destination.data;
  const tabs = [
    { id: "pipeline", label: "Delivery", content: <Pipeline destination={found} /> },
    { id: "errors", label: "Latest errors", content: <Errors destinationId={found.id} /> },
    { id: "dead-letters", label: "Dead letters", content: <DeadLetters destinationId={found.id} /> },
    ...(canWrite ? [{ id: "test", label: "Test send", content: <TestSend destinationId={found.id} /> }] : []),
    { id: "settings", label: "Settings", content: <Settings destination={found} /> },
  ];
  return (
    <>
      <p className="crumbs">
        <Link to={`/w/${encodeURIComponent(found.workspace)}/destinations`}>Destinations</Link> ›
      </p>
      <PageHeader title={found.name}>
        <span className="badge">
          <KindTitle kind={found.kind} />
        </span>
        <span className="badge">{found.enabled ? "Sending" : "Disabled"}</span>
        {canWrite && <Actions destination={found} />}
      </PageHeader>
      <Tabs label="Destination" tabs={tabs} />
    </>
  );
}

function Actions({ destination }: { destination: Found }) {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const health = useHealth(destination.id, 10_000);
  const where = onDestination(workspace, destination.id);
  const toggle = useMutation({
    mutationFn: () =>
      ok(
        destination.enabled
          ? api.POST("/api/v1/workspaces/{workspace}/destinations/{destination_id}/disable", where)
          : api.POST("/api/v1/workspaces/{workspace}/destinations/{destination_id}/enable", where),
      ),
    onSuccess: (changed) => queries.setQueryData(destinationKey(workspace, destination.id), changed),
  });
  const remove = useMutation({
    // the API deletes only a disabled destination: stop it first, so nothing is sent meanwhile
    mutationFn: async () => {
      if (destination.enabled) {
        await ok(api.POST("/api/v1/workspaces/{workspace}/destinations/{destination_id}/disable", where));
      }
      return ok(api.DELETE("/api/v1/workspaces/{workspace}/destinations/{destination_id}", where));
    },
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ["destinations", workspace] });
      navigate(`/w/${encodeURIComponent(workspace)}/destinations`);
    },
  });
  const waiting = health.data ? health.data.queue.pending + health.data.queue.retrying : null;
  const confirmDelete = () => {
    const queued =
      waiting === null ? "Its undelivered events" : `Its ${waiting} undelivered event${waiting === 1 ? "" : "s"}`;
    const question =
      `Delete “${destination.name}”? Headwater stops sending to it at once. ${queued}, its dead letters, ` +
      "errors and figures are deleted. Events already delivered stay where they are. This cannot be undone.";
    if (window.confirm(question)) remove.mutate();
  };
  return (
    <>
      <button type="button" onClick={() => toggle.mutate()} disabled={toggle.isPending}>
        {destination.enabled ? "Disable" : "Enable"}
      </button>
      <button type="button" className="danger" onClick={confirmDelete} disabled={remove.isPending}>
        Delete
      </button>
      {toggle.error ? <ErrorNote error={toggle.error} /> : null}
      {remove.error ? <ErrorNote error={remove.error} /> : null}
    </>
  );
}
