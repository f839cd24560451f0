// A source's browser plugins: tools that must run in the visitor's browser (device mode), which
// analytics.js loads on the page with the settings Headwater serves it.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, ok } from "../../api/client";
import type { components } from "../../api/schema";
import { useCan, useWorkspace } from "../../app/session";
import { Empty, ErrorNote, Loading } from "../../components/Notes";
import { FormActions } from "../../components/FormActions";

type Plugin = components["schemas"]["PluginView"];

export function Plugins({ sourceId }: { sourceId: number }) {
  const workspace = useWorkspace();
  const canEdit = useCan("sources:write");
  const queries = useQueryClient();
  const [adding, setAdding] = useState(false);
  const key = ["source-plugins", workspace, sourceId];
  const path = { params: { path: { workspace, source_id: sourceId } } };
  const plugins = useQuery({
    queryKey: key,
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/sources/{source_id}/plugins", path)),
  });
  const save = useMutation({
    mutationFn: (next: Plugin[]) =>
      ok(api.PUT("/api/v1/workspaces/{workspace}/sources/{source_id}/plugins", { ...path, body: { plugins: next } })),
    onSuccess: (saved) => queries.setQueryData(key, saved),
  });
  if (plugins.isPending) return <Loading what="the browser plugins" />;
  if (plugins.error) return <ErrorNote error={plugins.error} retry={() => plugins.refetch()} />;
  const list = plugins.data.plugins;
  const change = (index: number, plugin: Plugin | null) =>
    save.mutate(list.flatMap((each, i) => (i !== index ? [each] : plugin ? [plugin] : [])));
  return (
    <section aria-label="Browser plugins">
      <p className="muted">
        Headwater sends events to your tools from the server. A tool that must run in the visitor's browser (a chat
        widget, a heatmap) is a browser plugin: the website's analytics.js loads it and hands it every event.
      </p>
      {canEdit && !adding && (
        <div className="row">
          <button type="button" className="primary" onClick={() => setAdding(true)}>
            Add a browser plugin
          </button>
        </div>
      )}
      {adding && (
        <NewPlugin
          taken={list.map((p) => p.name)}
          onCancel={() => setAdding(false)}
          onAdd={(plugin) => save.mutate([...list, plugin], { onSuccess: () => setAdding(false) })}
          pending={save.isPending}
          error={save.error}
        />
      )}
      {!adding && save.error ? <ErrorNote error={save.error} /> : null}
      {list.length === 0 ? (
        <Empty title="No browser plugin">
          <p>
            Pages using this source load no plugin, which is right for most websites.{" "}
            {canEdit
              ? "Add one only for a tool its vendor says must run in the browser."
              : "Ask a developer of this workspace to add one."}
          </p>
        </Empty>
      ) : (
        <table className="wide" aria-label="Browser plugins">
          <thead>
            <tr>
              <th>Name</th>
              <th>Script</th>
              <th>State</th>
              {canEdit && <th aria-label="Actions" />}
            </tr>
          </thead>
          <tbody>
            {list.map((plugin, index) => (
              <tr key={plugin.name}>
                <td>{plugin.name}</td>
                <td>
                  <code>{plugin.url}</code>
                </td>
                <td>{plugin.enabled ? "Loaded on pages" : "Off"}</td>
                {canEdit && (
                  <td className="row">
                    <button
                      type="button"
                      disabled={save.isPending}
                      onClick={() => change(index, { ...plugin, enabled: !plugin.enabled })}
                    >
                      {plugin.enabled ? `Turn off ${plugin.name}` : `Turn on ${plugin.name}`}
                    </button>
                    <button type="button" disabled={save.isPending} onClick={() => change(index, null)}>
                      Remove {plugin.name}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

interface NewPluginProps {
  taken: string[];
  onAdd: (plugin: Plugin) => void;
  onCancel: () => void;
  pending: boolean;
  error: unknown;
}

function NewPlugin({ taken, onAdd, onCancel, pending, error }: NewPluginProps) {
  const [name, setName] = useState("");
  const [libraryName, setLibraryName] = useState("");
  const [url, setUrl] = useState("/device-mode/");
  const [settings, setSettings] = useState("{}");
  const [problem, setProblem] = useState<string | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (taken.includes(name)) return setProblem(`Another plugin is already named “${name}”.`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(settings || "{}");
    } catch {
      return setProblem("The settings are not valid JSON: check the quotes and commas.");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return setProblem('The settings must be a JSON object, such as {"appId": "abc"}.');
    }
    setProblem(null);
    onAdd({ name, library_name: libraryName, url, settings: parsed as Plugin["settings"], enabled: true });
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="new-plugin-title">
      <h2 id="new-plugin-title">New browser plugin</h2>
      <label>
        Name
        <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="Chat" />
      </label>
      <label>
        Function name
        <input
          required
          value={libraryName}
          onChange={(e) => setLibraryName(e.target.value)}
          placeholder="chatPlugin"
          aria-describedby="library-help"
        />
      </label>
      <p id="library-help" className="muted">
        The function the plugin's script defines on the page; its vendor's instructions name it.
      </p>
      <label>
        Script
        <input required value={url} onChange={(e) => setUrl(e.target.value)} aria-describedby="script-help" />
      </label>
      <p id="script-help" className="muted">
        A file put in Headwater's device-mode directory (/device-mode/chat.js), so pages need no other site, or the
        vendor's https:// address.
      </p>
      <label>
        Settings (JSON)
        <textarea rows={4} value={settings} onChange={(e) => setSettings(e.target.value)} spellCheck={false} />
      </label>
      {problem && (
        <div className="note error" role="alert">
          {problem}
        </div>
      )}
      <FormActions action="Add plugin" pending={pending} error={error} onCancel={onCancel} />
    </form>
  );
}
