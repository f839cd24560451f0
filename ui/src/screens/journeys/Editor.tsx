// One journey: its draft on the canvas (the palette, the selected node's form or the journey's
// settings), saved with its revision; its problems; publishing and state; its versions read-only.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { useCan, useWorkspace } from "../../app/session";
import { ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { type Detail, exportUrl, journeyCalls, type NodeType, SaveRefused, STATES, type Stats } from "./calls";
import { Canvas } from "./Canvas";
import { addNode, type Document, type Position, type Problem, problemPlace, sameDocument } from "./graph";
import { Lifecycle } from "./Lifecycle";
import { NodePanel } from "./NodePanel";
import { Palette } from "./Palette";
import { JourneySettings } from "./Settings";
import { StartPeople } from "./StartPeople";
import { type Run, TestRun } from "./TestRun";
import { trailOf } from "./testRun";
import { LeaveWarning, SaveState } from "./Unsaved";

export default function Editor() {
  const workspace = useWorkspace();
  const { key = "" } = useParams();
  const calls = journeyCalls(workspace);
  const journey = useQuery({ queryKey: ["journey", workspace, key], queryFn: () => calls.get(key) });
  const types = useQuery({ queryKey: ["journey-node-types"], queryFn: calls.nodeTypes, staleTime: Infinity });
  if (journey.isPending || types.isPending) return <Loading what="the journey" />;
  if (journey.error) return <ErrorNote error={journey.error} retry={() => journey.refetch()} />;
  if (types.error) return <ErrorNote error={types.error} retry={() => types.refetch()} />;
  return <Loaded key={journey.data.key} journey={journey.data} types={types.data} />;
}

function Loaded({ journey, types }: { journey: Detail; types: NodeType[] }) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const canWrite = useCan("journeys:write");
  const [document, setDocument] = useState<Document>(journey.draft);
  const [selected, setSelected] = useState<string | null>(null);
  const [showing, setShowing] = useState<number | null>(null);
  const [testing, setTesting] = useState(false);
  const [run, setRun] = useState<Run | null>(null);
  const calls = journeyCalls(workspace);
  const version = useQuery({
    queryKey: ["journey-version", workspace, journey.key, showing],
    queryFn: () => calls.version(journey.key, showing ?? 0),
    enabled: showing !== null,
  });
  // live figures of the version shown (or the one running, under the draft), every few seconds
  const figuresOf = showing ?? journey.version;
  const stats = useQuery({
    queryKey: ["journey-stats", workspace, journey.key, figuresOf],
    queryFn: () => calls.stats(journey.key, figuresOf),
    enabled: figuresOf !== null,
    refetchInterval: 3000,
  });
  const refresh = (next: Detail) => {
    queries.setQueryData(["journey", workspace, journey.key], next);
    void queries.invalidateQueries({ queryKey: ["journeys", workspace] });
    void queries.invalidateQueries({ queryKey: ["journey-versions", workspace, journey.key] });
  };
  const save = useMutation({
    mutationFn: () => calls.save(journey.key, journey.revision, document),
    onSuccess: refresh,
  });
  const reload = async () => {
    const latest = await calls.get(journey.key);
    save.reset();
    refresh(latest);
    setDocument(latest.draft);
  };
  // Leave the selection when its node is gone (removed on the canvas, or another version shown).
  const shown = showing === null ? document : version.data?.document;
  useEffect(() => {
    if (selected && shown && !(selected in shown.nodes)) setSelected(null);
  }, [selected, shown]);

  const dirty = !sameDocument(document, journey.draft);
  const refused = save.error instanceof SaveRefused ? save.error : null;
  const problems: Problem[] = refused?.problems.length ? refused.problems : journey.problems;
  const readOnly = !canWrite || journey.state === "archived" || showing !== null;
  const titles = Object.fromEntries(types.map((t) => [t.type, { title: t.title, family: t.family }]));
  const add = (type: string, position?: Position) => {
    const [next, id] = addNode(document, type, position ?? freeSpot(document));
    setDocument(next);
    setSelected(id);
  };
  // a version shown is read only: nothing on it may reach the draft
  const edit = showing === null ? setDocument : () => undefined;
  const kind = (id: string) => types.find((t) => t.type === shown?.nodes[id]?.type);

  return (
    <>
      <p className="crumbs">
        <Link to={`/w/${encodeURIComponent(workspace)}/journeys`}>Journeys</Link>
      </p>
      <PageHeader title={journey.name}>
        <span className="badge">{STATES[journey.state]}</span>
        <span>{journey.version === null ? "Never published" : `Version ${journey.version}`}</span>
        <a className="button" href={exportUrl(workspace, journey.key, showing)} download={`${journey.key}.yaml`}>
          Export YAML
        </a>
      </PageHeader>
      <div className="toolbar">
        <VersionSwitch
          journeyKey={journey.key}
          showing={showing}
          onShow={(shownVersion) => {
            setShowing(shownVersion);
            setRun(null);
          }}
        />
        <button type="button" aria-expanded={testing} onClick={() => setTesting(!testing)}>
          Test run
        </button>
        {canWrite && showing === null && journey.state !== "archived" && (
          <>
            <button type="button" className="primary" disabled={!dirty || save.isPending} onClick={() => save.mutate()}>
              {save.isPending ? "Saving…" : "Save draft"}
            </button>
            <SaveState dirty={dirty} saving={save.isPending} />
          </>
        )}
        <StartPeople journey={journey} />
      </div>
      <LeaveWarning dirty={dirty} />
      {refused?.conflict && (
        <div className="note error" role="alert">
          <span>Someone else saved this journey after you opened it. Reload it to see their changes (yours here are then lost).</span>
          <button type="button" onClick={() => void reload()}>
            Reload
          </button>
        </div>
      )}
      {save.error && !refused?.conflict && !refused?.problems.length ? <ErrorNote error={save.error} /> : null}
      {showing === null ? (
        <Problems
          problems={problems}
          blocking={refused?.problems.length ? "saving: the draft is not saved" : "publishing"}
          onSelect={setSelected}
          document={document}
        />
      ) : (
        <p className="note">You are looking at version {showing}, read only. Choose “Draft” to edit.</p>
      )}
      {stats.data && <Totals stats={stats.data} />}
      {canWrite && showing === null && (
        <Lifecycle workspace={workspace} journey={journey} blocked={publishBlocked(journey, dirty, problems)} onDone={refresh} />
      )}
      {!shown ? (
        version.error ? (
          <ErrorNote error={version.error} retry={() => version.refetch()} />
        ) : (
          <Loading what={`version ${showing}`} />
        )
      ) : (
        <div className={readOnly ? "journey-editor read-only" : "journey-editor"}>
          {!readOnly && <Palette types={types} onAdd={(type) => add(type)} />}
          <Canvas
            document={shown}
            titles={titles}
            problems={showing === null ? problems : []}
            readOnly={readOnly}
            selected={selected}
            onSelect={setSelected}
            onChange={edit}
            onAdd={add}
            counts={stats.data?.nodes}
            trail={testing && run && shown ? trailOf(run.steps, shown) : null}
          />
          <aside className="journey-side" aria-label="Details">
            {selected && shown.nodes[selected] ? (
              <NodePanel
                key={selected}
                id={selected}
                document={shown}
                kind={kind(selected)}
                problems={showing === null ? problems : []}
                readOnly={readOnly}
                onChange={edit}
                onClose={() => setSelected(null)}
              />
            ) : (
              <>
                <JourneySettings document={shown} onChange={edit} readOnly={readOnly} />
                <NodeList document={shown} onSelect={setSelected} readOnly={readOnly} />
              </>
            )}
          </aside>
        </div>
      )}
      {testing && shown && (
        <TestRun
          key={showing ?? "draft"}
          workspace={workspace}
          journeyKey={journey.key}
          document={shown}
          version={showing}
          onRun={setRun}
          onClose={() => {
            setTesting(false);
            setRun(null);
          }}
        />
      )}
    </>
  );
}

/** Below the lowest node: where a node added by click (or keyboard) goes. */
function freeSpot(document: Document): Position {
  const ys = Object.values(document.nodes).map((n) => n.position?.y ?? 0);
  return { x: 80, y: ys.length ? Math.max(...ys) + 140 : 40 };
}

function publishBlocked(journey: Detail, dirty: boolean, problems: Problem[]): string | null {
  if (dirty) return "Save the draft before publishing it.";
  if (problems.length) return "Publishing waits until the problems listed above are fixed.";
  if (!journey.changed) return `Nothing changed since version ${journey.version}.`;
  return null;
}

interface ProblemsProps {
  problems: Problem[];
  /** What they stop. */
  blocking: string;
  document: Document;
  onSelect: (id: string) => void;
}

function Problems({ problems, blocking, document, onSelect }: ProblemsProps) {
  if (problems.length === 0) return null;
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  return (
    <section className="note warn journey-problem-list" aria-labelledby="journey-problems-title">
      <div>
        <h2 id="journey-problems-title">
          {count} to fix before {blocking}
        </h2>
        <ul>
          {problems.map((p) => {
            const id = p.path.split(".")[1] ?? "";
            const node = p.path.startsWith("nodes.") ? document.nodes[id] : undefined;
            const place = node ? problemPlace(p.path, id) : "";
            return (
              <li key={p.path + p.message}>
                {node ? (
                  <button type="button" className="link" onClick={() => onSelect(id)}>
                    {node.label || id}
                  </button>
                ) : (
                  <code>{p.path}</code>
                )}
                {place ? ` (${place})` : null}
                : {p.message}
              </li>
            );
          })}
        </ul>
      </div>
    </section>
  );
}

function NodeList({ document, onSelect, readOnly }: { document: Document; onSelect: (id: string) => void; readOnly: boolean }) {
  const nodes = Object.entries(document.nodes);
  return (
    <section aria-labelledby="journey-nodes-title">
      <h2 id="journey-nodes-title">Nodes</h2>
      {nodes.length === 0 ? (
        <p className="muted">
          {readOnly ? "This journey has no node yet." : "No node yet: add one from “Add a node”, then connect its ports to the next steps."}
        </p>
      ) : (
        <ul className="plain-list">
          {nodes.map(([id, node]) => (
            <li key={id}>
              <button type="button" className="link" onClick={() => onSelect(id)}>
                {readOnly ? "View" : "Edit"} {node.label || id}
              </button>
              {document.start === id && <span className="badge">Start</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function VersionSwitch({
  journeyKey,
  showing,
  onShow,
}: {
  journeyKey: string;
  showing: number | null;
  onShow: (version: number | null) => void;
}) {
  const workspace = useWorkspace();
  const versions = useQuery({
    queryKey: ["journey-versions", workspace, journeyKey],
    queryFn: () => journeyCalls(workspace).versions(journeyKey),
  });
  if (!versions.data?.length) return null;
  return (
    <label>
      Showing
      <select value={showing ?? ""} onChange={(e) => onShow(e.target.value === "" ? null : Number(e.target.value))}>
        <option value="">Draft</option>
        {versions.data.map((v) => (
          <option key={v.version} value={v.version}>
            Version {v.version}
            {v.note ? ` — ${v.note}` : ""} ({new Date(v.published_at).toLocaleDateString()})
          </option>
        ))}
      </select>
    </label>
  );
}

const REASONS: Record<string, string> = {
  exit_event: "left by an exit rule",
  archived: "left when archived",
  node_removed: "left when their step was removed",
};

/** The journey's figures in a sentence (the version shown, or the one running). */
function Totals({ stats }: { stats: Stats }) {
  const exited = Object.entries(stats.exited).map(([reason, n]) => `${n.toLocaleString()} ${REASONS[reason] ?? reason}`);
  return (
    <p className="journey-totals" aria-label="Figures">
      <strong>{stats.entered.toLocaleString()}</strong> entered · <strong>{stats.in_progress.toLocaleString()}</strong> in
      progress · <strong>{stats.completed.toLocaleString()}</strong> completed · <strong>{stats.converted.toLocaleString()}</strong>{" "}
      reached the goal{stats.failed ? ` · ${stats.failed.toLocaleString()} failed` : ""}
      {exited.length ? ` · ${exited.join(", ")}` : ""}
    </p>
  );
}
