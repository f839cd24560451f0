// A list audience's members added and removed by hand: identifiers one per line, what each
// request did, and the lines that named nobody.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useWorkspace } from "../../app/session";
import { ErrorNote } from "../../components/Notes";
import { calls, type Computation, type MembersChanged, type Reference } from "./calls";

const REFERENCES: { value: Reference; label: string; placeholder: string }[] = [
  { value: "user_id", label: "User id", placeholder: "user-123" },
  { value: "email", label: "Email", placeholder: "ada@example.com" },
  { value: "anonymous_id", label: "Anonymous id", placeholder: "5d1f…" },
  { value: "profile_id", label: "Profile id", placeholder: "prf_…" },
];
const MAX = 1000;

/** The identifiers typed, one per line (commas too), without blanks. */
export function parseLines(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

function summary(action: "add" | "remove", done: MembersChanged): string {
  const changed = action === "add" ? `${done.added} added` : `${done.removed} removed`;
  const same = done.unchanged ? `, ${done.unchanged} ${action === "add" ? "already in" : "not in it"}` : "";
  return `${changed}${same}.`;
}

export function ListMembers({ item }: { item: Computation }) {
  const workspace = useWorkspace();
  const queries = useQueryClient();
  const [by, setBy] = useState<Reference>("user_id");
  const [text, setText] = useState("");
  const values = parseLines(text);
  const change = useMutation({
    mutationFn: (action: "add" | "remove") => calls("audiences", workspace).changeMembers(item.key, action, by, values),
    onSuccess: async (done) => {
      // keep only the lines that named nobody, to correct them
      const missing = new Set(done.problems.map((p) => Number((p.path ?? "").split(".")[1])));
      setText(values.filter((_, index) => missing.has(index)).join("\n"));
      await queries.invalidateQueries({ queryKey: ["audiences", workspace, item.key] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    change.mutate("add");
  };
  const chosen = REFERENCES.find((r) => r.value === by)!;
  const done = change.data;
  const action = change.variables ?? "add";
  const tooMany = values.length > MAX;
  return (
    <form className="card" aria-label="Add or remove members" onSubmit={submit}>
      <h3>Add or remove members</h3>
      <label>
        People are named by
        <select value={by} onChange={(e) => setBy(e.target.value as Reference)}>
          {REFERENCES.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        {chosen.label}s, one per line
        <textarea rows={4} value={text} onChange={(e) => setText(e.target.value)} placeholder={`${chosen.placeholder}\n…`} />
      </label>
      {tooMany && <p className="error-text">At most {MAX.toLocaleString()} at a time: split the list.</p>}
      <div className="row">
        <button type="submit" className="primary" disabled={change.isPending || values.length === 0 || tooMany}>
          Add to the list
        </button>
        <button type="button" disabled={change.isPending || values.length === 0 || tooMany} onClick={() => change.mutate("remove")}>
          Remove from the list
        </button>
      </div>
      {change.error && <ErrorNote error={change.error} />}
      {done && (
        <div role="status">
          <p>{summary(action, done)}</p>
          {done.problems.length > 0 && (
            <p className="error-text">
              Not found, so left out: {done.problems.length === 1 ? "one line is" : `${done.problems.length} lines are`} kept above
              to correct. Someone is found once Headwater has an event naming them.
            </p>
          )}
        </div>
      )}
    </form>
  );
}
