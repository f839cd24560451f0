// Find a profile by any identifier's value or by a trait; without a search, the profiles seen
// most recently. The search lives in the address, so that going back shows the same results.
import { useQuery } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { type FormEvent, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api, inWorkspace, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useWorkspace } from "../../app/session";
import { DataTable } from "../../components/DataTable";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { PersonalNote, profileLabel, profilePath, when } from "./shared";

type Found = components["schemas"]["ProfileRefView"];
type By = "identifier" | "trait";

interface Search {
  by: By;
  trait: string;
  q: string;
}

function query({ by, trait, q }: Search): { value?: string; trait?: string } {
  if (!q) return {};
  return by === "trait" ? { trait: `${trait}=${q}` } : { value: q };
}

export default function Profiles() {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const search: Search = {
    by: params.get("by") === "trait" ? "trait" : "identifier",
    trait: params.get("trait") ?? "email",
    q: params.get("q") ?? "",
  };
  const found = useQuery({
    queryKey: ["profiles", workspace, search],
    queryFn: () =>
      ok(
        api.GET("/api/v1/workspaces/{workspace}/profiles", {
          ...inWorkspace(workspace),
          params: { path: { workspace }, query: { ...query(search), limit: 100 } },
        }),
      ),
  });
  const columns: ColumnDef<Found, any>[] = [
    {
      id: "profile",
      header: "Profile",
      accessorFn: profileLabel,
      // the row opens the profile too: the link's own click must not navigate a second time
      cell: (c) => (
        <Link to={profilePath(workspace, c.row.original.id)} onClick={(e) => e.stopPropagation()}>
          {c.getValue()}
        </Link>
      ),
    },
    {
      id: "identifiers",
      header: "Identifiers",
      accessorFn: (p: Found) => p.identifiers.map((i) => `${i.type}: ${i.value}`).join(", "),
    },
    { accessorKey: "last_seen", header: "Last seen", cell: (c) => when(c.getValue()) },
  ];
  return (
    <>
      <PageHeader title="Profiles" />
      <SearchForm key={params.toString()} initial={search} onSearch={(next) => setParams(next.q ? { ...next } : {})} />
      <PersonalNote />
      {found.isPending ? (
        <Loading what="profiles" />
      ) : found.error ? (
        <ErrorNote error={found.error} retry={() => found.refetch()} />
      ) : found.data.length === 0 ? (
        search.q ? (
          <NoMatch search={search} />
        ) : (
          <NoProfile />
        )
      ) : (
        <>
          <h2>{search.q ? `Profiles matching “${search.q}”` : "Seen most recently"}</h2>
          <DataTable
            label="Profiles"
            rows={found.data}
            columns={columns}
            onRowClick={(p) => navigate(profilePath(workspace, p.id))}
          />
        </>
      )}
    </>
  );
}

function SearchForm({ initial, onSearch }: { initial: Search; onSearch: (search: Search) => void }) {
  const [by, setBy] = useState<By>(initial.by);
  const [trait, setTrait] = useState(initial.trait);
  const [q, setQ] = useState(initial.q);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSearch({ by, trait: trait.trim(), q: q.trim() });
  };
  return (
    <form className="filters" role="search" aria-label="Find a profile" onSubmit={submit}>
      <label>
        Search by
        <select value={by} onChange={(e) => setBy(e.target.value as By)}>
          <option value="identifier">Any identifier (user id, email, anonymous id…)</option>
          <option value="trait">A trait</option>
        </select>
      </label>
      {by === "trait" && (
        <label>
          Trait name
          <input required value={trait} onChange={(e) => setTrait(e.target.value)} placeholder="email" />
        </label>
      )}
      <label>
        {by === "trait" ? "Trait value" : "Identifier value"}
        <input
          type="search"
          value={q}
          onChange={(e) => setQ(e.target.value)}
          placeholder={by === "trait" ? "ada@example.com" : "user-123 or ada@example.com"}
        />
      </label>
      <button type="submit" className="primary">
        Search
      </button>
    </form>
  );
}

function NoMatch({ search }: { search: Search }) {
  return (
    <Empty title="No profile matches">
      <p>
        No profile has {search.by === "trait" ? `the trait ${search.trait} = “${search.q}”` : `an identifier “${search.q}”`}
        . Values must match exactly (a trait's case too). Try another identifier: a user id, an anonymous id or an
        email address{search.by === "identifier" ? ", or search by a trait" : ""}.
      </p>
    </Empty>
  );
}

function NoProfile() {
  const workspace = useWorkspace();
  const canSources = useCan("sources:read");
  return (
    <Empty title="No profile yet">
      <p>
        Profiles appear when a source sends identify or track events.{" "}
        {canSources ? (
          <Link to={`/w/${encodeURIComponent(workspace)}/sources`}>Set up a source</Link>
        ) : (
          "Ask a developer of this workspace to set up a source."
        )}
      </p>
    </Empty>
  );
}
