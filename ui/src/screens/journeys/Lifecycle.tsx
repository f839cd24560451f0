// Publishing and the journey's state: publish the saved draft (with a note), pause, resume,
// archive (asked twice: it cannot be undone).
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { ErrorNote } from "../../components/Notes";
import { type Detail, journeyCalls } from "./calls";

interface Props {
  workspace: string;
  journey: Detail;
  /** Why publishing is not possible now (null: it is). */
  blocked: string | null;
  onDone: (journey: Detail) => void;
}

export function Lifecycle({ workspace, journey, blocked, onDone }: Props) {
  const [note, setNote] = useState("");
  const [archiving, setArchiving] = useState(false);
  const calls = journeyCalls(workspace);
  const act = useMutation({
    mutationFn: (action: "publish" | "pause" | "resume" | "archive") =>
      action === "publish" ? calls.publish(journey.key, note) : calls[action](journey.key),
    onSuccess: (next) => {
      setNote("");
      setArchiving(false);
      onDone(next);
    },
  });
  if (journey.state === "archived") return null;
  return (
    <section className="journey-lifecycle" aria-label="Publish and state">
      <div className="row wrap">
        <label className="grow">
          Note for this version
          <input value={note} onChange={(e) => setNote(e.target.value)} placeholder="What changed" />
        </label>
        <button
          type="button"
          className="primary"
          disabled={blocked !== null || act.isPending}
          aria-describedby={blocked ? "publish-blocked" : undefined}
          onClick={() => act.mutate("publish")}
        >
          Publish
        </button>
        {journey.state === "live" && (
          <button type="button" onClick={() => act.mutate("pause")} disabled={act.isPending}>
            Pause
          </button>
        )}
        {journey.state === "paused" && (
          <button type="button" onClick={() => act.mutate("resume")} disabled={act.isPending}>
            Resume
          </button>
        )}
        {journey.state !== "draft" &&
          (archiving ? (
            <span className="row">
              <button type="button" className="danger" onClick={() => act.mutate("archive")} disabled={act.isPending}>
                Archive for good
              </button>
              <button type="button" onClick={() => setArchiving(false)}>
                Keep it
              </button>
            </span>
          ) : (
            <button type="button" onClick={() => setArchiving(true)}>
              Archive
            </button>
          ))}
      </div>
      {blocked && (
        <p id="publish-blocked" className="muted small">
          {blocked}
        </p>
      )}
      {archiving && <p className="muted small">An archived journey stops for good: nobody enters it again and it cannot be resumed.</p>}
      {act.error ? <ErrorNote error={act.error} /> : null}
    </section>
  );
}
