// The frame of every workspace screen: the navigation (only what the role may use), the
// workspace switcher and the account menu.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Navigate, NavLink, Outlet, useLocation, useNavigate } from "react-router-dom";
import { api, ok } from "../api/client";
import { ApiError } from "../api/errors";
import { Empty, ErrorNote, Loading } from "../components/Notes";
import { type Held, useMe, useWorkspace } from "./session";

interface Item {
  to: string;
  label: string;
  needs: string;
}

const SECTIONS: { title: string; items: Item[] }[] = [
  {
    title: "Data",
    items: [
      { to: "overview", label: "Overview", needs: "data:read" },
      { to: "sources", label: "Sources", needs: "sources:read" },
      { to: "imports", label: "Imports", needs: "data:read" },
      { to: "destinations", label: "Destinations", needs: "destinations:read" },
      { to: "reverse-etl", label: "Reverse ETL", needs: "sources:read" },
      { to: "plans", label: "Tracking plans", needs: "plans:read" },
    ],
  },
  {
    title: "Engage",
    items: [
      { to: "audiences", label: "Audiences", needs: "audiences:read" },
      { to: "computed-traits", label: "Computed traits", needs: "audiences:read" },
      { to: "journeys", label: "Journeys", needs: "journeys:read" },
      { to: "profiles", label: "Profiles", needs: "profiles:read" },
    ],
  },
  {
    title: "Privacy",
    items: [
      { to: "privacy/deletion", label: "Deletion & suppression", needs: "privacy:read" },
      { to: "privacy/exports", label: "Subject access", needs: "privacy:read" },
      { to: "privacy/pii", label: "PII rules", needs: "privacy:read" },
      { to: "privacy/retention", label: "Retention", needs: "privacy:read" },
    ],
  },
  {
    title: "Settings",
    items: [
      { to: "settings/workspaces", label: "Workspaces", needs: "workspace:read" },
      { to: "settings/people", label: "People", needs: "people:read" },
      { to: "settings/tokens", label: "API tokens", needs: "workspace:read" },
      { to: "settings/audit", label: "Audit log", needs: "audit:read" },
      { to: "settings/identity", label: "Identity rules", needs: "profiles:read" },
      { to: "settings/account", label: "Your account", needs: "workspace:read" },
    ],
  },
];

export function Layout() {
  const me = useMe();
  const workspace = useWorkspace();
  const location = useLocation();
  if (me.isPending) return <Loading what="your account" />;
  if (me.error instanceof ApiError && me.error.status === 401) {
    return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  }
  if (me.error) return <ErrorNote error={me.error} retry={() => me.refetch()} />;
  const held = me.data.workspaces.find((h) => h.workspace === workspace);
  return (
    <div className="frame">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">Headwater</div>
        <WorkspaceSwitch current={workspace} all={me.data.workspaces} />
        {held &&
          SECTIONS.map((section) => {
            const items = section.items.filter((item) => held.permissions.includes(item.needs));
            return (
              items.length > 0 && (
                <div key={section.title} className="nav-section">
                  <h2>{section.title}</h2>
                  <ul>
                    {items.map((item) => (
                      <li key={item.to}>
                        <NavLink to={item.to}>{item.label}</NavLink>
                      </li>
                    ))}
                  </ul>
                </div>
              )
            );
          })}
        <Account label={me.data.label} role={held?.role} />
      </nav>
      <main className="content">
        {held ? (
          <Outlet />
        ) : (
          <Empty title="Workspace not found">
            <p>
              There is no workspace “{workspace}” that you hold a role in. Pick one of yours in the menu, or ask an owner
              to add you.
            </p>
          </Empty>
        )}
      </main>
    </div>
  );
}

function WorkspaceSwitch({ current, all }: { current: string; all: Held[] }) {
  const navigate = useNavigate();
  if (all.length < 2) return <p className="workspace">Workspace: {current}</p>;
  return (
    <label className="workspace">
      Workspace
      <select value={current} onChange={(e) => navigate(`/w/${encodeURIComponent(e.target.value)}/overview`)}>
        {all.map((held) => (
          <option key={held.workspace} value={held.workspace}>
            {held.workspace}
          </option>
        ))}
      </select>
    </label>
  );
}

function Account({ label, role }: { label: string; role: string | undefined }) {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const signOut = useMutation({
    mutationFn: () => ok(api.POST("/api/v1/auth/logout")),
    onSettled: () => {
      queries.clear();
      navigate("/login", { replace: true });
    },
  });
  return (
    <div className="account">
      <p>
        {label}
        {role && <span className="badge">{role.replace("_", " ")}</span>}
      </p>
      <button type="button" onClick={() => signOut.mutate()}>
        Sign out
      </button>
    </div>
  );
}
