// Build (or change) an audience or a computed trait: name, key, the definition, where to send
// it; its size and a sample of members before saving.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { useCan, useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { ConditionBuilder } from "./Builder";
import { calls, type Computation, destinations, isList, type Section, WORDS } from "./calls";
import {
  type AudienceDefinition,
  emptyQuery,
  fromQuery,
  fromTraitForm,
  type Group,
  toQuery,
  toTraitForm,
  type TraitDefinition,
  type TraitForm,
} from "./conditions";
import { TraitFields } from "./TraitFields";

function EditScreen({ section }: { section: Section }) {
  const workspace = useWorkspace();
  const key = useParams().key;
  const canWrite = useCan("audiences:write");
  const words = WORDS[section];
  const existing = useQuery({
    queryKey: [section, workspace, key],
    queryFn: () => calls(section, workspace).get(key!),
    enabled: key !== undefined,
  });
  if (!canWrite) {
    return (
      <Empty title={`Your role cannot change ${words.title.toLowerCase()}`}>
        <p>Marketers, admins and owners build them; ask one of them.</p>
      </Empty>
    );
  }
  if (key === undefined) return <Form section={section} />;
  if (existing.isPending) return <Loading what={`the ${words.noun}`} />;
  if (existing.error) return <ErrorNote error={existing.error} retry={() => existing.refetch()} />;
  return <Form section={section} saved={existing.data} />;
}

function Form({ section, saved }: { section: Section; saved?: Computation }) {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const words = WORDS[section];
  const api = calls(section, workspace);
  const [name, setName] = useState(saved?.name ?? "");
  const [key, setKey] = useState(saved?.key ?? "");
  const [description, setDescription] = useState(saved?.description ?? "");
  const [subject, setSubject] = useState<"user" | "account">(saved?.subject === "account" ? "account" : "user");
  const [chosen, setChosen] = useState<number[]>(saved?.destinations ?? []);
  // a list audience: members added and removed by hand (and by journeys), no condition
  const [listed, setListed] = useState(saved !== undefined && isList(saved));
  const [query, setQuery] = useState<Group>(() =>
    saved && section === "audiences" && !isList(saved) ? toQuery((saved.definition as AudienceDefinition).condition) : emptyQuery(),
  );
  const [trait, setTrait] = useState<TraitForm>(() =>
    saved && section === "computed-traits" ? toTraitForm(saved.definition as TraitDefinition) : { kind: "counter", event: "" },
  );
  const definition = (): Record<string, unknown> =>
    section === "audiences"
      ? listed
        ? { version: 1, list: true }
        : { version: 1, condition: fromQuery(query) }
      : { ...fromTraitForm(trait) };
  const audiences = useQuery({
    queryKey: ["audiences", workspace],
    queryFn: () => calls("audiences", workspace).list(),
    enabled: section === "audiences",
  });
  const keys = (audiences.data ?? []).filter((a) => a.key !== saved?.key && a.subject === "user").map((a) => a.key);
  const preview = useMutation({ mutationFn: () => api.preview(definition(), subject) });
  const save = useMutation({
    mutationFn: () =>
      saved
        ? api.update(saved.key, { name, description, definition: definition(), destinations: chosen })
        : api.create({ key, name, description, subject: listed ? "user" : subject, definition: definition(), destinations: chosen }),
    onSuccess: async (done) => {
      await queries.invalidateQueries({ queryKey: [section, workspace] });
      navigate(`/w/${encodeURIComponent(workspace)}/${section}/${done.key}`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const back = `/w/${encodeURIComponent(workspace)}/${section}${saved ? `/${saved.key}` : ""}`;
  return (
    <>
      <p className="crumbs">
        <Link to={`/w/${encodeURIComponent(workspace)}/${section}`}>{words.title}</Link> ›
      </p>
      <PageHeader title={saved ? `Edit ${saved.name}` : `New ${words.noun}`} />
      <form className="card" onSubmit={submit} aria-label={saved ? `Edit ${words.noun}` : `New ${words.noun}`}>
        <label>
          Name
          <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="Buyers of the last 30 days" />
        </label>
        {!saved && (
          <label>
            Key
            <input
              required
              pattern="[a-z][a-z0-9_]{0,63}"
              value={key}
              onChange={(e) => setKey(e.target.value)}
              placeholder="buyers_30d"
              aria-describedby="key-help"
            />
          </label>
        )}
        {!saved && (
          <p id="key-help" className="muted small">
            Lower case, digits and _; it becomes the trait name in destinations and never changes.
          </p>
        )}
        <label>
          Description
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        {section === "audiences" && !saved && (
          <fieldset>
            <legend>Who decides who is in it</legend>
            <label className="inline">
              <input type="radio" name="kind" checked={!listed} onChange={() => setListed(false)} />
              A condition: Headwater keeps it current as events arrive
            </label>
            <label className="inline">
              <input type="radio" name="kind" checked={listed} onChange={() => setListed(true)} />
              A list: people are added and removed by hand, or by journeys
            </label>
          </fieldset>
        )}
        {section === "audiences" && !saved && !listed && (
          <fieldset>
            <legend>Members are</legend>
            <label className="inline">
              <input type="radio" name="subject" checked={subject === "user"} onChange={() => setSubject("user")} />
              People
            </label>
            <label className="inline">
              <input type="radio" name="subject" checked={subject === "account"} onChange={() => setSubject("account")} />
              Accounts (companies, from group calls)
            </label>
          </fieldset>
        )}
        <Part title={section === "audiences" ? "Who is in it" : "What to compute"}>
          {listed ? (
            <p className="muted">
              People in this list stay until they are removed. {saved ? "Add" : "Once it is saved, add"} them on its
              Members tab (by user id, email, anonymous id or profile id), with <code>headwater audiences add</code>, or
              from a journey’s “Add to or remove from a list” step.
            </p>
          ) : section === "audiences" ? (
            <ConditionBuilder query={query} onChange={setQuery} subject={subject} audiences={keys} />
          ) : (
            <TraitFields form={trait} onChange={setTrait} />
          )}
        </Part>
        <Destinations chosen={chosen} onChange={setChosen} />
        {!listed && (
          <Part title="Preview">
            <button type="button" onClick={() => preview.mutate()} disabled={preview.isPending}>
              Preview size and members
            </button>
            {preview.error && <ErrorNote error={preview.error} />}
            {preview.data && <PreviewResult section={section} size={preview.data.size} sample={preview.data.sample} />}
          </Part>
        )}
        {save.error && <ErrorNote error={save.error} />}
        <div className="row">
          <button type="submit" className="primary" disabled={save.isPending}>
            {saved ? "Save changes" : `Save ${words.noun}`}
          </button>
          <Link className="button" to={back}>
            Cancel
          </Link>
        </div>
      </form>
    </>
  );
}

function Part({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="form-part" aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

function PreviewResult({
  section,
  size,
  sample,
}: {
  section: Section;
  size: number;
  sample: { profile_id: string; value: unknown }[];
}) {
  const noun = section === "audiences" ? (size === 1 ? "member" : "members") : size === 1 ? "profile with a value" : "profiles with a value";
  return (
    <div role="status" aria-label="Preview">
      <p>
        <strong>{size.toLocaleString()}</strong> {noun} now.
      </p>
      {sample.length > 0 && (
        <table aria-label="Sample members">
          <thead>
            <tr>
              <th scope="col">Profile</th>
              {section === "computed-traits" && <th scope="col">Value</th>}
            </tr>
          </thead>
          <tbody>
            {sample.map((s) => (
              <tr key={s.profile_id}>
                <td>
                  <code>{s.profile_id}</code>
                </td>
                {section === "computed-traits" && <td>{JSON.stringify(s.value)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Destinations({ chosen, onChange }: { chosen: number[]; onChange: (ids: number[]) => void }) {
  const workspace = useWorkspace();
  const all = useQuery({ queryKey: ["destinations", workspace], queryFn: () => destinations(workspace) });
  return (
    <Part title="Send changes to">
      {all.isPending ? (
        <Loading what="destinations" />
      ) : all.error ? (
        <ErrorNote error={all.error} retry={() => all.refetch()} />
      ) : all.data.length === 0 ? (
        <p className="muted">No destination yet: entries and exits are kept here until you add one and choose it.</p>
      ) : (
        all.data.map((d) => (
          <label key={d.id} className="inline">
            <input
              type="checkbox"
              checked={chosen.includes(d.id)}
              onChange={(e) => onChange(e.target.checked ? [...chosen, d.id] : chosen.filter((id) => id !== d.id))}
            />
            {d.name} <span className="muted small">({d.kind})</span>
          </label>
        ))
      )}
    </Part>
  );
}

export function EditAudience() {
  return <EditScreen section="audiences" />;
}

export function EditComputedTrait() {
  return <EditScreen section="computed-traits" />;
}
