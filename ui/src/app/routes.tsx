// A route per screen, each loaded on first visit (the first screen's JavaScript stays small).
import { lazy, Suspense, useState, type ComponentType } from "react";
import { createBrowserRouter, Navigate } from "react-router-dom";
import { Loading } from "../components/Notes";
import { Home } from "./Home";
import { Layout } from "./Layout";
import { Login } from "./Login";
import { Setup } from "./Setup";

type Load = () => Promise<{ default: ComponentType }>;

/** A screen loaded on first visit; ``preload`` starts loading it sooner. A screen whose code
 * is already there when it is first drawn is drawn at once, not through Suspense: React delays
 * revealing suspended content (by about 300 ms), which the first screen cannot spare. */
function lazyScreen(load: Load, what: string) {
  let ready: ComponentType | undefined;
  const preload = () =>
    load().then((module) => {
      ready = module.default;
      return module;
    });
  const Lazy = lazy(preload);
  function Screen() {
    const [Ready] = useState(() => ready); // decided once per visit: no remount later
    return Ready ? (
      <Ready />
    ) : (
      <Suspense fallback={<Loading what={what} />}>
        <Lazy />
      </Suspense>
    );
  }
  return { element: <Screen />, preload };
}

function screen(load: Load, what: string) {
  return lazyScreen(load, what).element;
}

const overview = lazyScreen(() => import("../screens/overview/Overview"), "the overview");

// The first screen a person lands on starts loading with the app, beside the session check,
// rather than once the session is known: it is there when the session is.
if (/^\/(w\/[^/]+\/overview\/?)?$/.test(window.location.pathname)) void overview.preload();

/** The list, new, one and edit screens of audiences or of computed traits (one lazy chunk each). */
function audienceRoutes(path: string, one: "Audience" | "ComputedTrait", what: string) {
  const list = one === "Audience" ? "Audiences" : "ComputedTraits";
  const edit = one === "Audience" ? "EditAudience" : "EditComputedTrait";
  return [
    { path, element: screen(() => import("../screens/audiences/List").then((m) => ({ default: m[list] })), what) },
    {
      path: `${path}/new`,
      element: screen(() => import("../screens/audiences/Edit").then((m) => ({ default: m[edit] })), "the builder"),
    },
    {
      path: `${path}/:key`,
      element: screen(() => import("../screens/audiences/Detail").then((m) => ({ default: m[one] })), what),
    },
    {
      path: `${path}/:key/edit`,
      element: screen(() => import("../screens/audiences/Edit").then((m) => ({ default: m[edit] })), "the builder"),
    },
  ];
}

export const router = createBrowserRouter([
  { path: "/login", element: <Login /> },
  { path: "/setup", element: <Setup /> },
  { path: "/", element: <Home /> },
  {
    path: "/w/:workspace",
    element: <Layout />,
    children: [
      { index: true, element: <Navigate to="overview" replace /> },
      { path: "overview", element: overview.element },
      { path: "sources", element: screen(() => import("../screens/sources/Sources"), "sources") },
      {
        path: "sources/:sourceId",
        element: screen(() => import("../screens/sources/Source"), "the source"),
      },
      { path: "imports", element: screen(() => import("../screens/imports/Imports"), "imports") },
      { path: "plans", element: screen(() => import("../screens/plans/Plans"), "tracking plans") },
      { path: "plans/new", element: screen(() => import("../screens/plans/NewPlan"), "a new plan") },
      { path: "plans/:slug", element: screen(() => import("../screens/plans/Plan"), "the tracking plan") },
      {
        path: "settings/workspaces",
        element: screen(() => import("../screens/settings/Workspaces"), "workspaces"),
      },
      {
        path: "settings/identity",
        element: screen(() => import("../screens/settings/IdentityRules"), "the identity rules"),
      },
      {
        path: "destinations",
        element: screen(() => import("../screens/destinations/Destinations"), "destinations"),
      },
      {
        path: "destinations/new",
        element: screen(() => import("../screens/destinations/NewDestination"), "the catalog"),
      },
      {
        path: "destinations/:destinationId",
        element: screen(() => import("../screens/destinations/Destination"), "the destination"),
      },
      { path: "reverse-etl", element: screen(() => import("../screens/retl/ReverseEtl"), "reverse ETL") },
      { path: "reverse-etl/models/new", element: screen(() => import("../screens/retl/NewModel"), "a new model") },
      { path: "reverse-etl/syncs/new", element: screen(() => import("../screens/retl/NewSync"), "a new sync") },
      { path: "reverse-etl/syncs/:syncId", element: screen(() => import("../screens/retl/SyncDetail"), "the sync") },
      ...audienceRoutes("audiences", "Audience", "audiences"),
      ...audienceRoutes("computed-traits", "ComputedTrait", "computed traits"),
      { path: "journeys", element: screen(() => import("../screens/journeys/Journeys"), "journeys") },
      { path: "journeys/:key", element: screen(() => import("../screens/journeys/Editor"), "the journey") },
      { path: "profiles", element: screen(() => import("../screens/profiles/Profiles"), "profiles") },
      {
        path: "profiles/:profileId",
        element: screen(() => import("../screens/profiles/Profile"), "the profile"),
      },
      {
        path: "privacy/deletion",
        element: screen(() => import("../screens/privacy/Regulations"), "deletion and suppression"),
      },
      { path: "privacy/exports", element: screen(() => import("../screens/privacy/Exports"), "subject access") },
      { path: "privacy/pii", element: screen(() => import("../screens/privacy/PiiRules"), "PII rules") },
      { path: "privacy/retention", element: screen(() => import("../screens/privacy/Retention"), "retention") },
      {
        path: "settings/people",
        element: screen(() => import("../screens/settings/People"), "people"),
      },
      {
        path: "settings/tokens",
        element: screen(() => import("../screens/settings/Tokens"), "API tokens"),
      },
      {
        path: "settings/audit",
        element: screen(() => import("../screens/settings/Audit"), "the audit log"),
      },
      {
        path: "settings/account",
        element: screen(() => import("../screens/settings/Account"), "your account"),
      },
    ],
  },
  { path: "*", element: <Home /> },
]);
