// A route per screen, each loaded on first visit (the first screen's JavaScript stays small).
import { lazy, Suspense, type ComponentType } from "react";
import { createBrowserRouter, Navigate } from "react-router-dom";
import { Loading } from "../components/Notes";
import { Home } from "./Home";
import { Layout } from "./Layout";
import { Login } from "./Login";
import { Setup } from "./Setup";

function screen(load: () => Promise<{ default: ComponentType }>, what: string) {
  const Screen = lazy(load);
  return (
    <Suspense fallback={<Loading what={what} />}>
      <Screen />
    </Suspense>
  );
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
      { path: "overview", element: screen(() => import("../screens/Overview"), "the overview") },
      { path: "sources", element: screen(() => import("../screens/sources/Sources"), "sources") },
      {
        path: "sources/:sourceId",
        element: screen(() => import("../screens/sources/Source"), "the source"),
      },
      { path: "profiles", element: screen(() => import("../screens/profiles/Profiles"), "profiles") },
      {
        path: "profiles/:profileId",
        element: screen(() => import("../screens/profiles/Profile"), "the profile"),
      },
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
