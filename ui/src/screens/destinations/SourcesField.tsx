// Which of the workspace's sources feed a destination: all of them (also those added later), or
// the ones ticked.
import { useQuery } from "@tanstack/react-query";
import { useId } from "react";
import { api, inWorkspace, ok } from "../../api/client";
import { useWorkspace } from "../../app/session";
import { ErrorNote, Loading } from "../../components/Notes";

interface Props {
  /** Source ids; null: every source. */
  value: number[] | null;
  onChange: (value: number[] | null) => void;
}

export function SourcesField({ value, onChange }: Props) {
  const workspace = useWorkspace();
  const group = useId();
  const sources = useQuery({
    queryKey: ["sources", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/sources", inWorkspace(workspace))),
  });
  const toggle = (id: number, on: boolean) => {
    const chosen = value ?? [];
    onChange(on ? [...chosen, id] : chosen.filter((other) => other !== id));
  };
  return (
    <fieldset>
      <legend>Sources</legend>
      <label className="inline">
        <input type="radio" name={group} checked={value === null} onChange={() => onChange(null)} />
        All sources, also those added later
      </label>
      <label className="inline">
        <input type="radio" name={group} checked={value !== null} onChange={() => onChange([])} />
        Only the sources ticked below
      </label>
      {value !== null &&
        (sources.isPending ? (
          <Loading what="the sources" />
        ) : sources.error ? (
          <ErrorNote error={sources.error} retry={() => sources.refetch()} />
        ) : sources.data.length === 0 ? (
          <p className="muted">This workspace has no source yet: add one under Sources, then choose it here.</p>
        ) : (
          <div className="row wrap checks" role="group" aria-label="Sources sent from">
            {sources.data.map((source) => (
              <label key={source.id} className="inline">
                <input type="checkbox" checked={value.includes(source.id)} onChange={(e) => toggle(source.id, e.target.checked)} />
                {source.name}
              </label>
            ))}
          </div>
        ))}
      {value !== null && value.length === 0 && (
        <p className="muted">No source ticked: nothing will be sent.</p>
      )}
    </fieldset>
  );
}
