// Add a destination: pick its kind from the catalog, then fill in the form its config's
// schema describes.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, inWorkspace, ok } from "../../api/client";
import { useCan, useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { DestinationForm, type Saved } from "./DestinationForm";
import { type Kind, knownCategories, useKinds } from "./queries";

export default function NewDestination() {
  const workspace = useWorkspace();
  const canAdd = useCan("destinations:write");
  const kinds = useKinds();
  const [chosen, setChosen] = useState<Kind | null>(null);
  const base = `/w/${encodeURIComponent(workspace)}/destinations`;
  return (
    <>
      <p className="crumbs">
        <Link to={base}>Destinations</Link> ›
      </p>
      <PageHeader title="Add a destination" />
      {!canAdd ? (
        <Empty title="Not allowed">
          <p>Your role may look at destinations but not add one. Ask a developer or an admin of this workspace.</p>
        </Empty>
      ) : kinds.isPending ? (
        <Loading what="the catalog" />
      ) : kinds.error ? (
        <ErrorNote error={kinds.error} retry={() => kinds.refetch()} />
      ) : chosen ? (
        <Create kind={chosen} categories={knownCategories(kinds.data)} onCancel={() => setChosen(null)} />
      ) : (
        <Catalog kinds={kinds.data} onChoose={setChosen} />
      )}
    </>
  );
}

function Catalog({ kinds, onChoose }: { kinds: Kind[]; onChoose: (kind: Kind) => void }) {
  return (
    <section aria-labelledby="catalog-title">
      <h2 id="catalog-title">Catalog</h2>
      <p className="muted">Choose where the events should go. Each kind asks for what it needs on the next step.</p>
      <ul className="catalog">
        {kinds.map((kind) => (
          <li key={kind.kind}>
            <button type="button" onClick={() => onChoose(kind)}>
              <strong>{kind.title}</strong>
              <span className="small muted">
                {kind.categories.length ? `Consent: ${kind.categories.join(", ")}` : "No consent category"} ·{" "}
                {kind.max_batch === 1 ? "one event a request" : `up to ${kind.max_batch.toLocaleString()} events a request`}
                {kind.deletes ? " · forwards deletions" : ""}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Create({ kind, categories, onCancel }: { kind: Kind; categories: string[]; onCancel: () => void }) {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const create = useMutation({
    mutationFn: (saved: Saved) =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/destinations", {
          ...inWorkspace(workspace),
          body: { ...saved, kind: kind.kind },
        }),
      ),
    onSuccess: async (destination) => {
      await queries.invalidateQueries({ queryKey: ["destinations", workspace] });
      navigate(`/w/${encodeURIComponent(workspace)}/destinations/${destination.id}`);
    },
  });
  return (
    <DestinationForm
      kind={kind}
      categories={categories}
      submitLabel="Create destination"
      pending={create.isPending}
      error={create.error}
      onSubmit={(saved) => create.mutate(saved)}
      onCancel={onCancel}
    />
  );
}
