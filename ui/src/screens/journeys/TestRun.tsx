// The test run panel of the journey editor: a sample (the triggering event, an existing
// profile or traits, later events with their times) walked through the journey on the
// canvas (the draft as it is now, saved or not, or the version shown), and the path it would
// take, step by step; the caller highlights the path on the canvas. Nothing is sent or stored.
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { api } from "../../api/client";
import { ApiError } from "../../api/errors";
import type { components } from "../../api/schema";
import { ErrorNote } from "../../components/Notes";
import type { Document, Problem } from "./graph";
import { readObject, since, starterEvent } from "./testRun";

export type Run = components["schemas"]["TrialRunView"];
type Step = components["schemas"]["TrialStepView"];

const PATH = "/api/v1/workspaces/{workspace}/journeys/{key}/test-run";
const UNITS = { minutes: "minutes", hours: "hours", days: "days" } as const;
type Unit = keyof typeof UNITS;
const ACTIONS = new Set(["send", "webhook", "update_traits", "list_membership"]);

interface LaterRow {
  id: number;
  amount: string;
  unit: Unit;
  text: string;
}

/** A run refused: the server's words, and the problems it listed (a sample's or a document's). */
class Refused extends Error {
  constructor(
    message: string,
    readonly problems: Problem[],
  ) {
    super(message);
  }
}

interface Props {
  workspace: string;
  journeyKey: string;
  document: Document;
  /** The version shown (null: the draft on the canvas, saved or not). */
  version: number | null;
  onRun: (run: Run | null) => void;
  onClose: () => void;
}

export function TestRun({ workspace, journeyKey, document, version, onRun, onClose }: Props) {
  const starter = starterEvent(document);
  const [eventText, setEventText] = useState(starter ? JSON.stringify(starter, null, 2) : "");
  const [who, setWho] = useState<"sample" | "profile">("sample");
  const [traitsText, setTraitsText] = useState('{\n  "first_name": "Ada"\n}');
  const [profile, setProfile] = useState("");
  const [later, setLater] = useState<LaterRow[]>([]);
  const [ignoreHistory, setIgnoreHistory] = useState(false);
  const [failing, setFailing] = useState<string[]>([]);
  const actions = Object.entries(document.nodes).filter(([, node]) => ACTIONS.has(node.type));
  const panel = useRef<HTMLElement>(null);
  useEffect(() => panel.current?.scrollIntoView?.({ block: "nearest" }), []);

  const run = useMutation({
    mutationFn: async () => {
      const body = {
        ...(version === null ? { document } : { version }),
        ...(starter ? { event: readObject(eventText, "sample event") } : {}),
        ...(who === "sample" ? { traits: readObject(traitsText, "traits") } : profileOf(profile)),
        later: later.map((row, i) => laterOf(row, i)),
        ignore_history: ignoreHistory,
        failing,
      };
      const answer = await api.POST(PATH, { params: { path: { workspace, key: journeyKey } }, body });
      if (answer.response.ok && answer.data) return answer.data;
      const error = ApiError.of(answer.response.status, answer.error);
      const problems = ((answer.error ?? {}) as { problems?: Problem[] }).problems ?? [];
      throw new Refused(error.message, problems);
    },
    onSuccess: onRun,
    onError: () => onRun(null),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    run.mutate();
  };
  const change = (id: number, part: Partial<LaterRow>) =>
    setLater((rows) => rows.map((row) => (row.id === id ? { ...row, ...part } : row)));

  return (
    <section className="journey-test-run" aria-labelledby="test-run-title" ref={panel}>
      <div className="row wrap">
        <h2 id="test-run-title">Test run</h2>
        <p className="muted small">
          Walks a sample person through {version === null ? "the draft as it is on the canvas" : `version ${version}`}. Time is
          simulated and nothing is sent, queued or stored.
        </p>
        <button type="button" onClick={onClose}>
          Close the test run
        </button>
      </div>
      <form onSubmit={submit} className="test-run-form">
        <div>
          {starter ? (
            <label>
              Sample event (a Segment message)
              <textarea rows={8} value={eventText} onChange={(e) => setEventText(e.target.value)} spellCheck={false} />
            </label>
          ) : (
            <p className="muted small">
              This journey is not started by an event ({String(document.trigger.type).replace(/_/g, " ")}): the sample
              enters as if it had been started.
            </p>
          )}
        </div>
        <div>
          <fieldset className="plain-fieldset">
            <legend>Who</legend>
            <label className="inline">
              <input type="radio" name="who" checked={who === "sample"} onChange={() => setWho("sample")} /> A sample
              with these traits
            </label>
            <label className="inline">
              <input type="radio" name="who" checked={who === "profile"} onChange={() => setWho("profile")} /> An
              existing profile
            </label>
          </fieldset>
          {who === "sample" ? (
            <label>
              Traits (JSON)
              <textarea rows={4} value={traitsText} onChange={(e) => setTraitsText(e.target.value)} spellCheck={false} />
            </label>
          ) : (
            <>
              <label>
                Profile id or userId
                <input value={profile} onChange={(e) => setProfile(e.target.value)} placeholder="prf_… or user-1" />
              </label>
              <label className="inline">
                <input type="checkbox" checked={ignoreHistory} onChange={(e) => setIgnoreHistory(e.target.checked)} /> Let
                it in even if it entered before
              </label>
            </>
          )}
        </div>
        <div>
          <h3>Later events</h3>
          {later.length === 0 && <p className="muted small">None: add one to see a wait end by an event or an exit rule.</p>}
          {later.map((row, i) => (
            <fieldset key={row.id} className="test-run-later">
              <legend>Later event {i + 1}</legend>
              <div className="row">
                <label>
                  After
                  <input type="number" min={1} value={row.amount} onChange={(e) => change(row.id, { amount: e.target.value })} />
                </label>
                <label>
                  Unit
                  <select value={row.unit} onChange={(e) => change(row.id, { unit: e.target.value as Unit })}>
                    {Object.keys(UNITS).map((unit) => (
                      <option key={unit}>{unit}</option>
                    ))}
                  </select>
                </label>
                <button
                  type="button"
                  aria-label={`Remove later event ${i + 1}`}
                  onClick={() => setLater((rows) => rows.filter((r) => r.id !== row.id))}
                >
                  Remove
                </button>
              </div>
              <label>
                Message
                <textarea rows={3} value={row.text} onChange={(e) => change(row.id, { text: e.target.value })} spellCheck={false} />
              </label>
            </fieldset>
          ))}
          <button
            type="button"
            onClick={() =>
              setLater((rows) => [
                ...rows,
                { id: Date.now(), amount: "2", unit: "hours", text: '{"type": "track", "userId": "user-1", "event": ""}' },
              ])
            }
          >
            Add a later event
          </button>
          {actions.length > 0 && (
            <fieldset className="plain-fieldset">
              <legend>Take as failed</legend>
              {actions.map(([id, node]) => (
                <label key={id} className="inline">
                  <input
                    type="checkbox"
                    checked={failing.includes(id)}
                    onChange={(e) => setFailing((all) => (e.target.checked ? [...all, id] : all.filter((f) => f !== id)))}
                  />{" "}
                  {node.label || id}
                </label>
              ))}
            </fieldset>
          )}
        </div>
        <div className="row">
          <button type="submit" className="primary" disabled={run.isPending}>
            {run.isPending ? "Running…" : "Run the test"}
          </button>
        </div>
      </form>
      {run.error && <RunError error={run.error} />}
      {run.data && <RunResult run={run.data} />}
    </section>
  );
}

function profileOf(text: string): { profile_id: string } | { user_id: string } {
  const value = text.trim();
  if (!value) throw new Error("Give the profile's id (prf_…) or its userId, or choose a sample with traits.");
  return value.startsWith("prf_") ? { profile_id: value } : { user_id: value };
}

function laterOf(row: LaterRow, index: number) {
  const amount = Number(row.amount);
  if (!Number.isInteger(amount) || amount < 1) {
    throw new Error(`Later event ${index + 1} comes after a whole number of ${row.unit}, at least 1.`);
  }
  return { after: { [UNITS[row.unit]]: amount }, event: readObject(row.text, `message of later event ${index + 1}`) };
}

function RunError({ error }: { error: Error }) {
  if (!(error instanceof Refused)) {
    return error instanceof ApiError ? <ErrorNote error={error} /> : <p className="note error" role="alert">{error.message}</p>;
  }
  return (
    <div className="note error" role="alert">
      <div>
        <p>{error.message}</p>
        {error.problems.length > 0 && (
          <ul>
            {error.problems.map((p) => (
              <li key={p.path + p.message}>
                <code>{p.path}</code>: {p.message}
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}

function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
}

function RunResult({ run }: { run: Run }) {
  return (
    <section className="test-run-result" aria-labelledby="test-run-result-title">
      <h3 id="test-run-result-title">What would happen</h3>
      <p className={run.entered ? "note" : "note warn"}>{sentence(run.entry)}</p>
      {run.steps.length > 0 && (
        <ol className="test-run-steps" aria-label="Path">
          {run.steps.map((step, i) => (
            <StepItem key={i} step={step} />
          ))}
        </ol>
      )}
      {run.events.length > 0 && (
        <>
          <h4>Later events</h4>
          <ul aria-label="Later events">
            {run.events.map((event, i) => (
              <li key={i}>
                {event.event} ({since(event.elapsed)}): {event.outcome}
              </li>
            ))}
          </ul>
        </>
      )}
      <p role="status">
        <strong>Outcome:</strong> {sentence(run.outcome)}
        {run.converted_at ? " It reached the goal." : ""}
      </p>
      {run.problems.length > 0 && (
        <p className="muted small">
          {run.problems.length === 1 ? "One problem still stops publishing" : `${run.problems.length} problems still stop publishing, the first`}
          : {run.problems[0]?.message}
        </p>
      )}
      <p className="muted small">Nothing was sent, queued or stored.</p>
    </section>
  );
}

function StepItem({ step }: { step: Step }) {
  return (
    <li>
      <span className="test-run-time">{since(step.elapsed)}</span>
      <div>
        <strong>{step.label}</strong> <span className="muted small">{step.title}</span>
        {step.port && <span className="badge">{step.port}</span>}
        <div>{sentence(step.why)}</div>
        {step.effect && (
          <details>
            <summary>{sentence(step.effect.summary)}</summary>
            <pre className="test-run-payload">{JSON.stringify(step.effect.payload, null, 2)}</pre>
          </details>
        )}
      </div>
    </li>
  );
}
