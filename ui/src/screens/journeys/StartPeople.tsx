// "Start for people": profiles found by an identifier (as on the Profiles screen) or pasted as
// ids, optional properties, a confirmation, then the API's answer: how many started, and who
// did not with the reason. A live journey starts people whatever its trigger; a manual one
// offers it before it is live too, saying what to do first.
import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useWorkspace } from "../../app/session";
import { ErrorNote } from "../../components/Notes";
import { profileLabel } from "../profiles/shared";
import type { Detail } from "./calls";
import { readProperties, reasonWords, type Started, startBlocked, startedWords, startList } from "./starting";

type Found = components["schemas"]["ProfileRefView"];

/** Why the journey cannot start people now (null: it can). */
function notNow(journey: Detail): string | null {
  if (journey.state === "live") return null;
  if (journey.state === "paused") return "The journey is paused: resume it to start people.";
  return "Only a live journey starts people: publish it first.";
}

export function StartPeople({ journey }: { journey: Detail }) {
  const canWrite = useCan("journeys:write");
  const [open, setOpen] = useState(false);
  const manual = journey.draft.trigger.type === "manual";
  if (!canWrite || journey.state === "archived" || (!manual && journey.state !== "live")) return null;
  const blocked = notNow(journey);
  return (
    <>
      <span className="row wrap">
        <button type="button" disabled={blocked !== null} aria-describedby={blocked ? "start-blocked" : undefined} onClick={() => setOpen(true)}>
          Start for people…
        </button>
        {blocked && (
          <span id="start-blocked" className="muted small">
            {blocked}
          </span>
        )}
      </span>
      {open && <StartDialog journey={journey} onClose={() => setOpen(false)} />}
    </>
  );
}

function StartDialog({ journey, onClose }: { journey: Detail; onClose: () => void }) {
  const workspace = useWorkspace();
  const [chosen, setChosen] = useState<Found[]>([]);
  const [pasted, setPasted] = useState("");
  const [propertiesText, setPropertiesText] = useState("");
  // one start id per start: sent again after a lost answer, it enters nobody twice
  const [startId, setStartId] = useState(newStartId);
  const ids = startList(
    chosen.map((p) => p.id),
    pasted,
  );
  const properties = readProperties(propertiesText);
  const blocked = startBlocked(ids, properties);
  const start = useMutation({
    mutationFn: (): Promise<Started> =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/journeys/{key}/start", {
          params: { path: { workspace, key: journey.key } },
          body: { profile_ids: ids, start_id: startId, properties: "value" in properties ? properties.value : {} },
        }),
      ),
  });
  const again = () => {
    start.reset();
    setChosen([]);
    setPasted("");
    setStartId(newStartId());
  };
  const names = Object.fromEntries(chosen.map((p) => [p.id, profileLabel(p)]));
  return (
    <div className="overlay" onKeyDown={(e) => e.key === "Escape" && onClose()}>
      <section className="card wide" role="dialog" aria-modal="true" aria-labelledby="start-title">
        <h2 id="start-title">Start people in “{journey.name}”</h2>
        {start.data ? (
          <Answer answer={start.data} names={names} onAgain={again} onClose={onClose} />
        ) : (
          <>
            <p className="muted">
              They enter now, at the journey's first step, as its entry rule allows. Choose them by a user id, an email or an anonymous
              id, or paste profile ids.
            </p>
            <ProfileFinder chosen={chosen} onChoose={(p) => setChosen((old) => [...old, p])} />
            {chosen.length > 0 && (
              <>
                <h3 className="small">Chosen ({chosen.length})</h3>
                <ul className="pick-list" aria-label="Chosen profiles">
                  {chosen.map((p) => (
                    <li key={p.id}>
                      <span>
                        {profileLabel(p)} <code className="muted small">{p.id}</code>
                      </span>
                      <button type="button" onClick={() => setChosen((old) => old.filter((o) => o.id !== p.id))}>
                        Remove<span className="sr-only"> {profileLabel(p)}</span>
                      </button>
                    </li>
                  ))}
                </ul>
              </>
            )}
            <label>
              Or paste profile ids (one a line, or separated by commas)
              <textarea className="code" rows={3} value={pasted} onChange={(e) => setPasted(e.target.value)} placeholder="prf_…" />
            </label>
            <label>
              Properties (optional): what the steps read as {"{{ event.name }}"}, as a JSON object
              <textarea
                className="code"
                rows={3}
                value={propertiesText}
                aria-invalid={"wrong" in properties}
                onChange={(e) => setPropertiesText(e.target.value)}
                placeholder='{"coupon": "SPRING"}'
              />
            </label>
            {"wrong" in properties && <p className="error-text small">{properties.wrong}</p>}
            {start.error ? <ErrorNote error={start.error} /> : null}
            <div className="row wrap">
              <button type="button" className="primary" disabled={blocked !== null || start.isPending} onClick={() => start.mutate()}>
                {start.isPending ? "Starting…" : ids.length === 1 ? "Start 1 person" : `Start ${ids.length.toLocaleString()} people`}
              </button>
              <button type="button" onClick={onClose}>
                Cancel
              </button>
              {blocked && <span className="muted small">{blocked}</span>}
            </div>
          </>
        )}
      </section>
    </div>
  );
}

function newStartId(): string {
  return `web-${crypto.randomUUID()}`;
}

/** Find profiles by any identifier's value, as the Profiles screen does, and add them. */
function ProfileFinder({ chosen, onChoose }: { chosen: Found[]; onChoose: (profile: Found) => void }) {
  const workspace = useWorkspace();
  const [typed, setTyped] = useState("");
  const [value, setValue] = useState("");
  const found = useQuery({
    queryKey: ["profiles", workspace, { by: "identifier", q: value, limit: 20 }],
    queryFn: () =>
      ok(api.GET("/api/v1/workspaces/{workspace}/profiles", { params: { path: { workspace }, query: { value, limit: 20 } } })),
    enabled: value !== "",
  });
  const search = (event: FormEvent) => {
    event.preventDefault();
    setValue(typed.trim());
  };
  const taken = new Set(chosen.map((p) => p.id));
  return (
    <div className="form-part">
      <form className="row wrap" role="search" aria-label="Find a profile to start" onSubmit={search}>
        <label className="grow">
          User id, email or anonymous id
          <input value={typed} onChange={(e) => setTyped(e.target.value)} placeholder="ada@example.com" />
        </label>
        <button type="submit">Find</button>
      </form>
      {found.error ? <ErrorNote error={found.error} retry={() => found.refetch()} /> : null}
      {found.data &&
        (found.data.length === 0 ? (
          <p className="muted">No profile has the identifier “{value}”. Check its spelling, or paste the profile's id below.</p>
        ) : (
          <ul className="pick-list" aria-label="Profiles found">
            {found.data.map((p) => (
              <li key={p.id}>
                <span>
                  {profileLabel(p)}{" "}
                  <span className="muted small">{p.identifiers.map((i) => `${i.type}: ${i.value}`).join(", ")}</span>
                </span>
                <button type="button" disabled={taken.has(p.id)} onClick={() => onChoose(p)}>
                  {taken.has(p.id) ? "Added" : "Add"}
                  <span className="sr-only"> {profileLabel(p)}</span>
                </button>
              </li>
            ))}
          </ul>
        ))}
    </div>
  );
}

function Answer({
  answer,
  names,
  onAgain,
  onClose,
}: {
  answer: Started;
  names: Record<string, string>;
  onAgain: () => void;
  onClose: () => void;
}) {
  return (
    <div role="status" aria-label="Start result">
      <p>
        <strong>{startedWords(answer)}</strong>
        {answer.entered > 0 ? " They move on through the journey now; their profiles show each step." : ""}
      </p>
      {answer.skipped.length > 0 && (
        <>
          <h3 className="small">Not started</h3>
          <ul aria-label="Not started">
            {answer.skipped.map((s) => (
              <li key={s.profile_id}>
                {names[s.profile_id] ? `${names[s.profile_id]} ` : ""}
                <code>{s.profile_id}</code>: {reasonWords(s.reason)}
              </li>
            ))}
          </ul>
        </>
      )}
      <div className="row">
        <button type="button" onClick={onAgain}>
          Start more people
        </button>
        <button type="button" className="primary" onClick={onClose}>
          Done
        </button>
      </div>
    </div>
  );
}
