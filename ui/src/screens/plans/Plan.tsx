// One tracking plan: its events as forms, its versions with what changed, and the sources it governs.
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { api, ok } from "../../api/client";
import { useWorkspace } from "../../app/session";
import { ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { Tabs } from "../../components/Tabs";
import { Enforcement } from "./Enforcement";
import { PlanEditor } from "./PlanEditor";
import { Versions } from "./Versions";

export default function Plan() {
  const workspace = useWorkspace();
  const slug = useParams().slug ?? "";
  const plan = useQuery({
    queryKey: ["tracking-plan", workspace, slug],
    queryFn: () =>
      ok(api.GET("/api/v1/workspaces/{workspace}/tracking-plans/{slug}", { params: { path: { workspace, slug } } })),
  });
  if (plan.isPending) return <Loading what="the tracking plan" />;
  if (plan.error) return <ErrorNote error={plan.error} retry={() => plan.refetch()} />;
  const tabs = [
    { id: "events", label: "Events", content: <PlanEditor key={plan.data.version} plan={plan.data} /> },
    { id: "versions", label: "Versions", content: <Versions slug={slug} newest={plan.data.version} /> },
    { id: "sources", label: "Sources", content: <Enforcement slug={slug} /> },
  ];
  return (
    <>
      <p className="crumbs">
        <Link to={`/w/${encodeURIComponent(workspace)}/plans`}>Tracking plans</Link> ›
      </p>
      <PageHeader title={plan.data.name}>
        <span className="badge">Version {plan.data.version}</span>
      </PageHeader>
      <Tabs label="Tracking plan" tabs={tabs} />
    </>
  );
}
