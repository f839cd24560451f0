// The address without a workspace: the first workspace the person holds a role in.
import { Navigate } from "react-router-dom";
import { ApiError } from "../api/errors";
import { Empty, ErrorNote, Loading } from "../components/Notes";
import { useMe } from "./session";

export function Home() {
  const me = useMe();
  if (me.isPending) return <Loading what="your workspaces" />;
  if (me.error instanceof ApiError && me.error.status === 401) return <Navigate to="/login" replace />;
  if (me.error) return <ErrorNote error={me.error} retry={() => me.refetch()} />;
  const first = me.data.workspaces[0];
  if (!first) {
    return (
      <main className="centered">
        <Empty title="No workspace yet">
          <p>
            You are signed in as {me.data.label}, but no workspace has given you a role. Ask an owner of a
            workspace to add you as a member.
          </p>
        </Empty>
      </main>
    );
  }
  return <Navigate to={`/w/${encodeURIComponent(first.workspace)}/overview`} replace />;
}
