// Deletion and suppression: forget a person (erase what is held, here and in the destinations
// that can delete), stop collecting their messages, or collect them again; follow each request
// per person and per destination; and look up whether a person's messages are dropped.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { api, inWorkspace, ok } from "../../api/client";
import { useCan, useWorkspace } from "../../app/session";
import { LoadMore } from "../../components/LoadMore";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { counted } from "../../components/words";
import {
  parseSubjects,
  REGULATION_CHOICES,
  type RegulationType,
  regulationWords,
  statusWords,
  stillWorking,
  type SubjectType,
  subjectWords,
  subjectsProblem,
} from "./words";

const LIST = (workspace: string) => ["regulations", workspace] as const;
/** Requests a page holds; older ones load with "Load more". */
const PAGE = 50;

export default function Regulations() {
  const workspace = useWorkspace();
  const canWrite = useCan("privacy:write");
  const [asking, setAsking] = useState(false);
  const [found, setFound] = useState<{ type: SubjectType; id: string } | null>(null);
  const list = useInfiniteQuery({
    queryKey: [...LIST(workspace), found],
    queryFn: ({ pageParam }) =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/regulations", {
          params: {
            path: { workspace },
            query: {
              "pagination.count": PAGE,
              ...(pageParam ? { "pagination.cursor": pageParam } : {}),
              ...(found ? { subjectId: found.id, subjectType: found.type } : {}),
            },
          },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.data.pagination.next ?? undefined,
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.data.regulations.some((r) => stillWorking(r.status)))
        ? 1000
        : false,
  });
  const shown = list.data?.pages.flatMap((page) => page.data.regulations) ?? [];
  return (
    <>
      <PageHeader title="Deletion and suppression">
        {canWrite && !asking && (
          <button type="button" className="primary" onClick={() => setAsking(true)}>
            Delete or suppress a person
          </button>
        )}
      </PageHeader>
      <p className="muted">
        When a person asks to be forgotten, erase what Headwater holds about them and ask the destinations that can
        delete to do the same; or stop collecting their messages. Each request is followed here, person by person and
        destination by destination.
      </p>
      {asking && <NewRegulation onDone={() => setAsking(false)} />}
      <SuppressionLookup />
      <section aria-labelledby="regulations-title">
        <h2 id="regulations-title">Requests</h2>
        <FindPerson found={found} onFind={setFound} />
        {list.isPending ? (
          <Loading what="the requests" />
        ) : list.error ? (
          <ErrorNote error={list.error} retry={() => list.refetch()} />
        ) : shown.length === 0 ? (
          found ? (
            <Empty title="No request about this person">
              <p>
                Nothing was asked about the {subjectWords(found.type)} “{found.id}”.{" "}
                {canWrite ? "Use “Delete or suppress a person” above to make a request." : ""}
              </p>
            </Empty>
          ) : (
            <Empty title="No request yet">
              <p>
                {canWrite
                  ? "When a person asks to be forgotten, choose “Delete or suppress a person” above and paste their user id."
                  : "Requests to delete or suppress people will be listed here. Your role may follow them but not make them."}
              </p>
            </Empty>
          )
        ) : (
          <table className="wide">
            <caption className="sr-only">Deletion and suppression requests</caption>
            <thead>
              <tr>
                <th scope="col">Requested</th>
                <th scope="col">What</th>
                <th scope="col">People</th>
                <th scope="col">Status</th>
                <th scope="col">Finished</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((regulation) => (
                <RegulationRow key={regulation.id} regulation={regulation} subjectId={found?.id} />
              ))}
            </tbody>
          </table>
        )}
        <LoadMore pages={list} loading="Loading older requests…" />
      </section>
    </>
  );
}

type Entry = {
  id: string;
  regulationType: string;
  subjectType: string;
  subjects: string[];
  status: string;
  createdAt: string;
  finishedAt?: string;
};

function when(value: string | null | undefined): string {
  return value ? new Date(value).toLocaleString() : "—";
}

function StatusBadge({ status }: { status: string }) {
  const tone = status === "FINISHED" ? "ok" : status === "FAILED" || status === "INVALID" ? "bad" : "";
  return <span className={`badge ${tone}`}>{statusWords(status)}</span>;
}

function RegulationRow({ regulation, subjectId }: { regulation: Entry; subjectId: string | undefined }) {
  const [open, setOpen] = useState(false);
  const people =
    subjectId && regulation.subjects.length === 1
      ? `${subjectWords(regulation.subjectType)} ${subjectId}`
      : counted(regulation.subjects.length, "person", "people");
  return (
    <>
      <tr>
        <td>{when(regulation.createdAt)}</td>
        <td>{regulationWords(regulation.regulationType)}</td>
        <td>{people}</td>
        <td>
          <StatusBadge status={regulation.status} />
        </td>
        <td>{when(regulation.finishedAt)}</td>
        <td>
          <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
            {open ? "Hide" : "Show"} details
          </button>
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={6}>
            <RegulationDetail id={regulation.id} subjectId={subjectId} />
          </td>
        </tr>
      )}
    </>
  );
}

const REMOVED_WORDS: Record<string, string> = {
  events: "events",
  profiles: "profiles",
  identifiers: "identifiers",
  traits: "traits",
};

function removedWords(removed: Record<string, unknown> | undefined): string {
  if (!removed) return "";
  const parts = Object.entries(removed)
    .filter(([, count]) => typeof count === "number" && count > 0)
    .map(([what, count]) => `${(count as number).toLocaleString()} ${REMOVED_WORDS[what] ?? what.replace(/_/g, " ")}`);
  return parts.length ? `Erased: ${parts.join(", ")}` : "";
}

function RegulationDetail({ id, subjectId }: { id: string; subjectId: string | undefined }) {
  const workspace = useWorkspace();
  const canWrite = useCan("privacy:write");
  const queries = useQueryClient();
  const detail = useQuery({
    queryKey: ["regulation", workspace, id, subjectId],
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/regulations/{regulate_id}", {
          params: { path: { workspace, regulate_id: id }, query: subjectId ? { subjectId } : {} },
        }),
      ),
    refetchInterval: (query) =>
      query.state.data && stillWorking(query.state.data.data.regulation.overallStatus) ? 1000 : false,
  });
  const cancel = useMutation({
    mutationFn: () =>
      ok(
        api.DELETE("/api/v1/workspaces/{workspace}/regulations/{regulate_id}", {
          params: { path: { workspace, regulate_id: id } },
        }),
      ),
    onSuccess: () => queries.invalidateQueries({ queryKey: LIST(workspace) }),
  });
  if (detail.isPending) return <Loading what="the request" />;
  if (detail.error) return <ErrorNote error={detail.error} retry={() => detail.refetch()} />;
  const regulation = detail.data.data.regulation;
  const destinations = regulation.streamStatus.flatMap((stream) => stream.destinationStatus);
  return (
    <div className="spaced" aria-label="Request details">
      <h3>Per person</h3>
      <table>
        <caption className="sr-only">Per person</caption>
        <thead>
          <tr>
            <th scope="col">Person</th>
            <th scope="col">Status</th>
            <th scope="col">What happened</th>
          </tr>
        </thead>
        <tbody>
          {regulation.targets.map((target) => (
            <tr key={target.subject}>
              <td>
                <code>{target.subject}</code>
              </td>
              <td>
                <StatusBadge status={target.status} />
              </td>
              <td>
                {target.errString ? (
                  <span className="error-text">{target.errString}</span>
                ) : (
                  removedWords(target.removed as Record<string, unknown>) || "—"
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Per destination</h3>
      {destinations.length === 0 ? (
        <p className="muted">No destination was asked to delete: none of this workspace's destinations can delete.</p>
      ) : (
        <table>
          <caption className="sr-only">Per destination</caption>
          <thead>
            <tr>
              <th scope="col">Destination</th>
              <th scope="col">Status</th>
              <th scope="col">Finished</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {destinations.map((destination) => (
              <tr key={destination.id}>
                <td>{destination.id === "headwater" ? "Headwater's own data" : destination.name}</td>
                <td>
                  <StatusBadge status={destination.status} />
                </td>
                <td>{when(destination.finishedAt)}</td>
                <td>{destination.errString ? <span className="error-text">{destination.errString}</span> : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canWrite && regulation.overallStatus === "INITIALIZED" && (
        <p>
          <button
            type="button"
            className="danger"
            onClick={() => {
              if (window.confirm("Cancel this request before it starts? Nothing of it will be done.")) cancel.mutate();
            }}
          >
            Cancel the request
          </button>
        </p>
      )}
      {cancel.error ? <ErrorNote error={cancel.error} /> : null}
    </div>
  );
}

function SubjectTypeField({ value, onChange }: { value: SubjectType; onChange: (value: SubjectType) => void }) {
  const name = useId();
  return (
    <fieldset>
      <legend>The people are named by their</legend>
      <label className="inline">
        <input type="radio" name={name} checked={value === "USER_ID"} onChange={() => onChange("USER_ID")} />
        User id
      </label>
      <label className="inline">
        <input type="radio" name={name} checked={value === "ANONYMOUS_ID"} onChange={() => onChange("ANONYMOUS_ID")} />
        Anonymous id (a device or browser)
      </label>
    </fieldset>
  );
}

function NewRegulation({ onDone }: { onDone: () => void }) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const [type, setType] = useState<RegulationType>("SUPPRESS_WITH_DELETE");
  const [subjectType, setSubjectType] = useState<SubjectType>("USER_ID");
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const choice = REGULATION_CHOICES.find((c) => c.type === type)!;
  const create = useMutation({
    mutationFn: (subjectIds: string[]) =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/regulations", {
          ...inWorkspace(workspace),
          body: { regulationType: type, subjectType, subjectIds },
        }),
      ),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: LIST(workspace) });
      onDone();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const ids = parseSubjects(text);
    const wrong = subjectsProblem(ids);
    setProblem(wrong);
    if (wrong) return;
    const who = ids.length === 1 ? `the ${subjectWords(subjectType)} “${ids[0]}”` : counted(ids.length, "person", "people");
    const question = choice.deletes
      ? `${choice.label}: ${who}? Deleting cannot be undone: what Headwater holds about ${ids.length === 1 ? "this person" : "them"} is erased for good, and the destinations that can delete are asked to erase it too.`
      : `${choice.label}: ${who}?`;
    if (window.confirm(question)) create.mutate(ids);
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="regulation-title">
      <h2 id="regulation-title">Delete or suppress a person</h2>
      <fieldset>
        <legend>What to do</legend>
        {REGULATION_CHOICES.map((c) => (
          <label key={c.type} className="inline">
            <input type="radio" name="regulation-type" checked={type === c.type} onChange={() => setType(c.type)} />
            {c.label}
          </label>
        ))}
        <p className="muted">{choice.help}</p>
      </fieldset>
      <SubjectTypeField value={subjectType} onChange={setSubjectType} />
      <label>
        Ids, one a line
        <textarea rows={4} value={text} onChange={(e) => setText(e.target.value)} placeholder={"user-123\nuser-456"} />
      </label>
      {choice.deletes && (
        <p className="note warn">Deleting cannot be undone: erased data cannot be brought back.</p>
      )}
      {problem && (
        <p className="error-text" role="alert">
          {problem}
        </p>
      )}
      {create.error ? <ErrorNote error={create.error} /> : null}
      <div className="row">
        <button type="submit" className={choice.deletes ? "danger" : "primary"} disabled={create.isPending}>
          {choice.label}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function FindPerson({
  found,
  onFind,
}: {
  found: { type: SubjectType; id: string } | null;
  onFind: (found: { type: SubjectType; id: string } | null) => void;
}) {
  const [type, setType] = useState<SubjectType>(found?.type ?? "USER_ID");
  const [id, setId] = useState(found?.id ?? "");
  return (
    <form
      className="toolbar"
      role="search"
      aria-label="Requests about one person"
      onSubmit={(event) => {
        event.preventDefault();
        onFind(id.trim() ? { type, id: id.trim() } : null);
      }}
    >
      <label>
        Requests about
        <select value={type} onChange={(e) => setType(e.target.value as SubjectType)}>
          <option value="USER_ID">the user id</option>
          <option value="ANONYMOUS_ID">the anonymous id</option>
        </select>
      </label>
      <label>
        Their id
        <input value={id} onChange={(e) => setId(e.target.value)} placeholder="user-123" />
      </label>
      <button type="submit">Find</button>
      {found && (
        <button
          type="button"
          onClick={() => {
            setId("");
            onFind(null);
          }}
        >
          Show all
        </button>
      )}
      <p className="muted small">
        People are kept only as fingerprints: a list shows how many people a request is about; find one by their id to
        see it.
      </p>
    </form>
  );
}

function SuppressionLookup() {
  const workspace = useWorkspace();
  const [type, setType] = useState<SubjectType>("USER_ID");
  const [id, setId] = useState("");
  const [asked, setAsked] = useState<{ type: SubjectType; id: string } | null>(null);
  const lookup = useQuery({
    queryKey: ["suppressions", workspace, asked],
    enabled: asked !== null,
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/suppressions", {
          params: { path: { workspace }, query: { subjectId: asked!.id, subjectType: asked!.type } },
        }),
      ),
  });
  const suppressed = lookup.data?.data.suppressed.some((entry) => entry.subjectIds.length > 0) ?? false;
  return (
    <section className="card" aria-labelledby="lookup-title">
      <h2 id="lookup-title">Is this person suppressed?</h2>
      <form
        className="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          if (id.trim()) setAsked({ type, id: id.trim() });
        }}
      >
        <label>
          Kind of id
          <select value={type} onChange={(e) => setType(e.target.value as SubjectType)}>
            <option value="USER_ID">User id</option>
            <option value="ANONYMOUS_ID">Anonymous id</option>
          </select>
        </label>
        <label>
          Id to look up
          <input value={id} onChange={(e) => setId(e.target.value)} placeholder="user-123" />
        </label>
        <button type="submit">Look up</button>
      </form>
      {asked &&
        (lookup.isPending ? (
          <Loading what="the suppressions" />
        ) : lookup.error ? (
          <ErrorNote error={lookup.error} retry={() => lookup.refetch()} />
        ) : (
          <p role="status">
            {suppressed
              ? `Yes: messages from the ${subjectWords(asked.type)} “${asked.id}” are dropped at collection. “Collect again” undoes it.`
              : `No: messages from the ${subjectWords(asked.type)} “${asked.id}” are collected.`}
          </p>
        ))}
    </section>
  );
}
