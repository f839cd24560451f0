// One audience or computed trait: its members (CSV export), entries and exits over time, its
// definition and the destinations it syncs to; edit, recompute and delete for roles that may.
import { type InfiniteData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useCallback, useMemo, useState } from "react";
import { allExpanded, defaultStyles, JsonView } from "react-json-view-lite";
import "react-json-view-lite/dist/index.css";
import { Link, useNavigate, useParams } from "react-router-dom";
import { useCan, useWorkspace } from "../../app/session";
import { Chart } from "../../components/Chart";
import { DataTable } from "../../components/DataTable";
import { Empty, ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { Tabs } from "../../components/Tabs";
import { calls, type Change, type Computation, destinations, isList, type Member, type Section, WORDS } from "./calls";
import { ListMembers } from "./ListMembers";

function DetailScreen({ section }: { section: Section }) {
  const workspace = useWorkspace();
  const key = useParams().key!;
  const words = WORDS[section];
  const one = useQuery({ queryKey: [section, workspace, key], queryFn: () => calls(section, workspace).get(key) });
  if (one.isPending) return <Loading what={`the ${words.noun}`} />;
  if (one.error) return <ErrorNote error={one.error} retry={() => one.refetch()} />;
  const item = one.data;
  return (
    <>
      <p className="crumbs">
        <Link to={`/w/${encodeURIComponent(workspace)}/${section}`}>{words.title}</Link> ›
      </p>
      <PageHeader title={item.name}>
        <span className="badge">{(item.size ?? 0).toLocaleString()} {section === "audiences" ? "members" : "values"}</span>
        <Actions section={section} item={item} />
      </PageHeader>
      {item.description && <p className="muted">{item.description}</p>}
      <Tabs
        label={words.title}
        tabs={[
          { id: "members", label: section === "audiences" ? "Members" : "Values", content: <Members section={section} item={item} /> },
          { id: "changes", label: "Changes", content: <Changes section={section} item={item} /> },
          { id: "definition", label: "Definition", content: <Definition item={item} /> },
          { id: "destinations", label: "Destinations", content: <Synced ids={item.destinations} /> },
        ]}
      />
    </>
  );
}

function Actions({ section, item }: { section: Section; item: Computation }) {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const canWrite = useCan("audiences:write");
  const api = calls(section, workspace);
  const refresh = () => queries.invalidateQueries({ queryKey: [section, workspace] });
  const recompute = useMutation({ mutationFn: () => api.recompute(item.key), onSuccess: refresh });
  const remove = useMutation({
    mutationFn: () => api.remove(item.key),
    onSuccess: async () => {
      await refresh();
      navigate(`/w/${encodeURIComponent(workspace)}/${section}`);
    },
  });
  if (!canWrite) return null;
  const done = recompute.data;
  return (
    <>
      <Link className="button" to="edit">
        Edit
      </Link>
      {!isList(item) && (
        <button type="button" onClick={() => recompute.mutate()} disabled={recompute.isPending}>
          Recompute
        </button>
      )}
      <button
        type="button"
        className="danger"
        disabled={remove.isPending}
        onClick={() => window.confirm(`Delete “${item.name}”? Its members exit.`) && remove.mutate()}
      >
        Delete
      </button>
      {done && (
        <span role="status" className="small">
          Recomputed: {done.entered} entered, {done.exited} exited{section === "computed-traits" ? `, ${done.updated} updated` : ""}.
        </span>
      )}
      {(recompute.error || remove.error) && <ErrorNote error={recompute.error ?? remove.error} />}
    </>
  );
}

// what toLocaleString() shows, with one formatter: toLocaleString builds one per call, and a
// fast scroll of the members table formats every row that comes into view
const WHEN = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "numeric",
  day: "numeric",
  hour: "numeric",
  minute: "numeric",
  second: "numeric",
});

const MEMBER_COLUMNS: ColumnDef<Member, any>[] = [
  { accessorKey: "profile_id", header: "Profile", cell: (c) => <code>{c.getValue()}</code> },
  { accessorKey: "user_id", header: "User id", cell: (c) => c.getValue() ?? "" },
  { accessorKey: "email", header: "Email", cell: (c) => c.getValue() ?? "" },
  { accessorKey: "since", header: "Since", cell: (c) => WHEN.format(new Date(c.getValue())) },
];
const VALUE_COLUMN: ColumnDef<Member, any> = {
  accessorKey: "value",
  header: "Value",
  cell: (c) => (typeof c.getValue() === "string" ? c.getValue() : JSON.stringify(c.getValue())),
};

/** One page loaded or none: only then does polling (or a refocus) refetch, since refetching an
 * infinite query asks again for every loaded page (a hundred requests for 100,000 members) and
 * would move the rows under someone who scrolled far; the first page is where entries show. */
function onePage(query: { state: { data: InfiniteData<unknown> | undefined } }) {
  return (query.state.data?.pages.length ?? 0) <= 1;
}

function Members({ section, item }: { section: Section; item: Computation }) {
  const workspace = useWorkspace();
  const canWrite = useCan("audiences:write");
  const listed = isList(item);
  const api = calls(section, workspace);
  const pages = useInfiniteQuery({
    queryKey: [section, workspace, item.key, "members"],
    queryFn: ({ pageParam }) => api.members(item.key, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    // entries from arriving events show up without a reload
    refetchInterval: (query) => (onePage(query) ? 5000 : false),
    refetchOnWindowFocus: (query) => onePage(query),
  });
  const columns = useMemo(() => (section === "audiences" ? MEMBER_COLUMNS : [...MEMBER_COLUMNS.slice(0, 3), VALUE_COLUMN, MEMBER_COLUMNS[3]!]), [section]);
  // one array per loaded page, not per render: the table rebuilds its rows when this changes
  const rows = useMemo(() => pages.data?.pages.flatMap((p) => p.data) ?? [], [pages.data]);
  const { hasNextPage, isFetchingNextPage, isFetchNextPageError, fetchNextPage } = pages;
  // scrolling near the end loads the next page; after a failure only the button tries again
  const more = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage && !isFetchNextPageError) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, isFetchNextPageError, fetchNextPage]);
  if (pages.isPending) return <Loading what="members" />;
  if (pages.error && !isFetchNextPageError) return <ErrorNote error={pages.error} retry={() => pages.refetch()} />;
  const many = (pages.data?.pages.length ?? 0) > 1;
  return (
    <section aria-label="Members">
      {listed && canWrite && <ListMembers item={item} />}
      <div className="toolbar">
        <a className="button" href={api.csv(item.key)} download>
          Download all as CSV
        </a>
        <span className="muted small" role="status">
          {rows.length.toLocaleString()} shown
          {isFetchingNextPage ? ", loading more" : hasNextPage ? ", more load as you scroll" : ""}
          {many ? "; reload for new entries" : ""}
        </span>
      </div>
      {rows.length === 0 ? (
        <Empty title="No member yet">
          <p>
            {listed
              ? canWrite
                ? "Nobody is in this list. Add people above by user id, email, anonymous id or profile id, one per line; journeys can add them too, with an “Add to or remove from a list” step."
                : "Nobody is in this list. Marketers, admins and owners add people to it; journeys can too."
              : item.computed_at
                ? "Nobody matches now. Profiles enter as soon as their events match."
                : "It has not been computed yet: that happens within a minute of saving, or at once with Recompute."}
          </p>
        </Empty>
      ) : (
        <DataTable label={section === "audiences" ? "Members" : "Values"} rows={rows} columns={columns} onNearEnd={more} />
      )}
      {isFetchNextPageError && <ErrorNote error={pages.error} />}
      {hasNextPage && (
        <button type="button" onClick={() => fetchNextPage()} disabled={isFetchingNextPage}>
          Load more
        </button>
      )}
    </section>
  );
}

const CHANGE_COLUMNS: ColumnDef<Change, any>[] = [
  { accessorKey: "at", header: "When", cell: (c) => WHEN.format(new Date(c.getValue())) },
  { accessorKey: "change", header: "Change" },
  { accessorKey: "profile_id", header: "Profile", cell: (c) => <code>{c.getValue()}</code> },
  { accessorKey: "cause", header: "Cause" },
  { accessorKey: "delivered", header: "Sent", cell: (c) => (c.getValue() ? "yes" : "pending") },
];

function Changes({ section, item }: { section: Section; item: Computation }) {
  const workspace = useWorkspace();
  const api = calls(section, workspace);
  const pages = useInfiniteQuery({
    queryKey: [section, workspace, item.key, "changes"],
    queryFn: ({ pageParam }) => api.changes(item.key, pageParam),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    // as members: changes from arriving events show up without a reload, while one page is loaded
    refetchInterval: (query) => (onePage(query) ? 5000 : false),
    refetchOnWindowFocus: (query) => onePage(query),
  });
  if (pages.isPending) return <Loading what="changes" />;
  if (pages.error) return <ErrorNote error={pages.error} retry={() => pages.refetch()} />;
  const rows = pages.data.pages.flatMap((p) => p.data);
  if (rows.length === 0) {
    return (
      <Empty title="No change yet">
        <p>Each time a profile enters or exits (or its value changes), it is listed here with its cause.</p>
      </Empty>
    );
  }
  return (
    <section aria-label="Changes">
      <ChangesOverTime section={section} item={item} />
      <h3>Latest changes</h3>
      <DataTable label="Changes, newest first" rows={rows} columns={CHANGE_COLUMNS} />
      {pages.hasNextPage && (
        <button type="button" onClick={() => pages.fetchNextPage()} disabled={pages.isFetchingNextPage}>
          Load more
        </button>
      )}
    </section>
  );
}

const RANGES = [7, 30, 90] as const;
const DAY_MS = 86_400_000;

/** Entries and exits (and updates) per UTC day over the chosen range: the API's totals. */
function ChangesOverTime({ section, item }: { section: Section; item: Computation }) {
  const workspace = useWorkspace();
  const [days, setDays] = useState<number>(30);
  // the range starts at midnight UTC, so that it holds exactly `days` whole days, today included
  const since = useMemo(() => new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS - (days - 1) * DAY_MS).toISOString(), [days]);
  const totals = useQuery({
    queryKey: [section, workspace, item.key, "totals", since],
    queryFn: () => calls(section, workspace).totals(item.key, since),
    refetchInterval: 5000,
  });
  const chart = useMemo(() => {
    const buckets = totals.data ?? [];
    const series = [
      { label: "Entered", values: buckets.map((b) => b.entered), color: "#15803d" },
      { label: "Exited", values: buckets.map((b) => b.exited), color: "#b91c1c" },
      ...(section === "computed-traits" ? [{ label: "Updated", values: buckets.map((b) => b.updated), color: "#1d4ed8" }] : []),
    ];
    return { times: buckets.map((b) => Date.parse(b.bucket) / 1000), series };
  }, [totals.data, section]);
  return (
    <>
      <div className="toolbar">
        <label>
          Over
          <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {RANGES.map((n) => (
              <option key={n} value={n}>
                the last {n} days
              </option>
            ))}
          </select>
        </label>
      </div>
      {totals.isPending ? (
        <Loading what="the changes per day" />
      ) : totals.error ? (
        <ErrorNote error={totals.error} retry={() => totals.refetch()} />
      ) : (
        <Chart title={`Changes per day (UTC), last ${days} days`} times={chart.times} series={chart.series} utc />
      )}
    </>
  );
}

// the library's colour for true and false is too pale to read on white (axe: colour contrast)
const STYLES = { ...defaultStyles, booleanValue: `${defaultStyles.booleanValue} json-boolean` };

function Definition({ item }: { item: Computation }) {
  return (
    <section aria-label="Definition" className="event-detail">
      <JsonView data={item.definition as object} shouldExpandNode={allExpanded} style={STYLES} />
    </section>
  );
}

function Synced({ ids }: { ids: number[] }) {
  const workspace = useWorkspace();
  const all = useQuery({ queryKey: ["destinations", workspace], queryFn: () => destinations(workspace) });
  if (ids.length === 0) {
    return (
      <Empty title="Not sent anywhere">
        <p>Changes are kept here. Choose destinations with Edit to send entries and exits to them as they happen.</p>
      </Empty>
    );
  }
  if (all.isPending) return <Loading what="destinations" />;
  if (all.error) return <ErrorNote error={all.error} retry={() => all.refetch()} />;
  return (
    <ul className="plain-list" aria-label="Destinations">
      {ids.map((id) => {
        const found = all.data.find((d) => d.id === id);
        return <li key={id}>{found ? `${found.name} (${found.kind}${found.enabled ? "" : ", disabled"})` : `Destination ${id} (deleted)`}</li>;
      })}
    </ul>
  );
}

export function Audience() {
  return <DetailScreen section="audiences" />;
}

export function ComputedTrait() {
  return <DetailScreen section="computed-traits" />;
}
