// A destination's settings: the form for writers (PATCH: every part, saved secrets kept unless
// replaced), the settings as they are for readers (secrets read as set, never their value).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../../api/client";
import { useCan, useWorkspace } from "../../app/session";
import { ErrorNote, Loading } from "../../components/Notes";
import { DestinationForm, type Saved } from "./DestinationForm";
import { Json } from "./Exchange";
import { type Destination, destinationKey, type Kind, knownCategories, onDestination, useKinds } from "./queries";

export function Settings({ destination }: { destination: Destination }) {
  const canWrite = useCan("destinations:write");
  const kinds = useKinds();
  // a new version remounts the form on the destination as saved (after a save or a cancel)
  const [version, setVersion] = useState(0);
  const [saved, setSaved] = useState(false);
  if (!canWrite) {
    return (
      <section className="card" aria-label="Configuration">
        <h2>Configuration</h2>
        <p className="muted">Secrets are never shown: they read “set”. Only developers and admins can change these.</p>
        <Json data={destination.config} />
        <h3>Sources, filters, consent and delivery</h3>
        <p className="muted">
          Sources and consent categories read null for all sources and for what this kind of destination needs.
        </p>
        <Json data={{ sources: destination.sources, filters: destination.filters, categories: destination.categories, delivery: destination.delivery }} />
      </section>
    );
  }
  if (kinds.isPending) return <Loading what="the settings" />;
  if (kinds.error) return <ErrorNote error={kinds.error} retry={() => kinds.refetch()} />;
  const kind = kinds.data.find((k) => k.kind === destination.kind);
  if (!kind) return <p className="note">This destination's kind ({destination.kind}) is no longer installed.</p>;
  const reset = (done: boolean) => {
    setSaved(done);
    setVersion((n) => n + 1);
  };
  return (
    <>
      {saved && (
        <p className="note" role="status">
          Saved.
        </p>
      )}
      {/* a change saved elsewhere (enable or disable above) remounts the form on it */}
      <Edit
        key={`${version} ${destination.updated_at}`}
        destination={destination}
        kind={kind}
        categories={knownCategories(kinds.data)}
        onDone={reset}
      />
    </>
  );
}

interface EditProps {
  destination: Destination;
  kind: Kind;
  categories: string[];
  onDone: (saved: boolean) => void;
}

function Edit({ destination, kind, categories, onDone }: EditProps) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const save = useMutation({
    mutationFn: (body: Saved) =>
      ok(
        api.PATCH("/api/v1/workspaces/{workspace}/destinations/{destination_id}", {
          ...onDestination(workspace, destination.id),
          body,
        }),
      ),
    onSuccess: (changed) => {
      queries.setQueryData(destinationKey(workspace, destination.id), changed);
      onDone(true);
    },
  });
  return (
    <DestinationForm
      kind={kind}
      categories={categories}
      editing={destination}
      submitLabel="Save changes"
      pending={save.isPending}
      error={save.error}
      onSubmit={(saved) => save.mutate(saved)}
      onCancel={() => onDone(false)}
    />
  );
}
