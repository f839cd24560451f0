// A new sync: which model, where its rows go (profiles, events or a destination), how (the
// mode), which columns become which fields, and when it runs.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, inWorkspace, ok } from "../../api/client";
import { useWorkspace } from "../../app/session";
import { FormActions } from "../../components/FormActions";
import { ErrorNote, Loading, PageHeader } from "../../components/Notes";
import { parseFields, type ScheduleKind, scheduleOf } from "./mapping";
import { MODES, useModels } from "./queries";

type Where = "identify" | "group" | "track" | "destination";

const WHERE: Record<Where, string> = {
  identify: "Profiles: each row updates a person (identify)",
  group: "Profiles: each row updates an account (group)",
  track: "Events: each row is an event (track)",
  destination: "A destination: straight into its delivery queue",
};

export default function NewSync() {
  const workspace = useWorkspace();
  const navigate = useNavigate();
  const client = useQueryClient();
  const models = useModels();
  const destinations = useQuery({
    queryKey: ["destinations", workspace],
    queryFn: () => ok(api.GET("/api/v1/workspaces/{workspace}/destinations", inWorkspace(workspace))),
  });
  const [name, setName] = useState("");
  const [modelId, setModelId] = useState("");
  const [where, setWhere] = useState<Where>("identify");
  const [destinationId, setDestinationId] = useState("");
  const [destinationType, setDestinationType] = useState<"identify" | "group" | "track">("identify");
  const [mode, setMode] = useState("upsert");
  const [userId, setUserId] = useState("");
  const [anonymousId, setAnonymousId] = useState("");
  const [groupId, setGroupId] = useState("");
  const [event, setEvent] = useState("");
  const [eventColumn, setEventColumn] = useState("");
  const [fieldsText, setFieldsText] = useState("");
  const [scheduleKind, setScheduleKind] = useState<ScheduleKind>("manual");
  const [minutes, setMinutes] = useState("60");
  const [expression, setExpression] = useState("0 6 * * *");
  const base = `/w/${encodeURIComponent(workspace)}/reverse-etl`;
  const messageType = where === "destination" ? destinationType : where;
  // The chosen model's columns, offered in the column fields (read with a one-row preview).
  const columns = useQuery({
    queryKey: ["retl-model-columns", workspace, modelId],
    enabled: modelId !== "",
    queryFn: () =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/reverse-etl/models/{model_id}/preview", {
          params: { path: { workspace, model_id: Number(modelId) }, query: { limit: 1 } },
        }),
      ),
    staleTime: 60_000,
  });
  const parsed = parseFields(fieldsText);
  const create = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/workspaces/{workspace}/reverse-etl/syncs", {
          ...inWorkspace(workspace),
          body: {
            name,
            model_id: Number(modelId),
            target: where === "destination" ? "destination" : where === "track" ? "events" : "profiles",
            message_type: messageType,
            mode: mode as "upsert",
            destination_id: where === "destination" ? Number(destinationId) : null,
            mapping: {
              user_id: userId || null,
              anonymous_id: anonymousId || null,
              group_id: groupId || null,
              event: event || null,
              event_column: eventColumn || null,
              fields: parsed.fields,
            },
            schedule: scheduleOf(scheduleKind, minutes, expression),
          },
        }),
      ),
    onSuccess: async (sync) => {
      await client.invalidateQueries({ queryKey: ["retl-syncs", workspace] });
      navigate(`${base}/syncs/${sync.id}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!parsed.error) create.mutate();
  };
  if (models.isPending) return <Loading what="models" />;
  if (models.error) return <ErrorNote error={models.error} retry={() => models.refetch()} />;
  return (
    <>
      <p className="crumbs">
        <Link to={base}>Reverse ETL</Link> ›
      </p>
      <PageHeader title="New sync" />
      <form className="card" onSubmit={submit} aria-label="New sync">
        <label>
          Name
          <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="Customers to profiles" />
        </label>
        <label>
          Model
          <select required value={modelId} onChange={(e) => setModelId(e.target.value)}>
            <option value="">Choose a model…</option>
            {models.data.map((model) => (
              <option key={model.id} value={model.id}>
                {model.name}
              </option>
            ))}
          </select>
        </label>
        {columns.data ? (
          <p className="muted">Its columns: {columns.data.columns.join(", ")}.</p>
        ) : columns.error ? (
          <p className="muted">The model's columns could not be read now; type them in.</p>
        ) : null}
        <datalist id="model-columns">
          {(columns.data?.columns ?? []).map((column) => (
            <option key={column} value={column} />
          ))}
        </datalist>
        <label>
          Send to
          <select value={where} onChange={(e) => setWhere(e.target.value as Where)}>
            {(Object.keys(WHERE) as Where[]).map((key) => (
              <option key={key} value={key}>
                {WHERE[key]}
              </option>
            ))}
          </select>
        </label>
        {where === "destination" && (
          <>
            <label>
              Destination
              <select required value={destinationId} onChange={(e) => setDestinationId(e.target.value)}>
                <option value="">Choose a destination…</option>
                {(destinations.data ?? []).map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              As
              <select
                value={destinationType}
                onChange={(e) => setDestinationType(e.target.value as "identify" | "group" | "track")}
              >
                <option value="identify">identify calls</option>
                <option value="group">group calls</option>
                <option value="track">track calls</option>
              </select>
            </label>
          </>
        )}
        <label>
          Mode
          <select value={mode} onChange={(e) => setMode(e.target.value)}>
            {Object.entries(MODES)
              .filter(([key]) => !(key === "mirror" && messageType === "track"))
              .map(([key, label]) => (
                <option key={key} value={key}>
                  {label}
                </option>
              ))}
          </select>
        </label>
        <fieldset className="plain-fieldset">
          <legend>Columns to identifiers</legend>
          <label>
            User id column
            <input list="model-columns" value={userId} onChange={(e) => setUserId(e.target.value)} placeholder="id" />
          </label>
          <label>
            Anonymous id column (if there is no user id)
            <input list="model-columns" value={anonymousId} onChange={(e) => setAnonymousId(e.target.value)} />
          </label>
          {messageType === "group" && (
            <label>
              Group id column
              <input required list="model-columns" value={groupId} onChange={(e) => setGroupId(e.target.value)} placeholder="account_id" />
            </label>
          )}
          {messageType === "track" && (
            <>
              <label>
                Event name (the same for every row)
                <input value={event} onChange={(e) => setEvent(e.target.value)} placeholder="Order Completed" />
              </label>
              <label>
                …or the column holding each row's event name
                <input list="model-columns" value={eventColumn} onChange={(e) => setEventColumn(e.target.value)} />
              </label>
            </>
          )}
        </fieldset>
        <label>
          {messageType === "track" ? "Properties" : "Traits"}: one per line, “name = column”
          <textarea
            rows={4}
            value={fieldsText}
            onChange={(e) => setFieldsText(e.target.value)}
            placeholder={"plan = plan_name\nemail"}
          />
          <span className="muted">Leave empty to send every other column under its own name.</span>
        </label>
        {parsed.error ? (
          <div className="note error" role="alert">
            {parsed.error}
          </div>
        ) : null}
        <label>
          When
          <select value={scheduleKind} onChange={(e) => setScheduleKind(e.target.value as ScheduleKind)}>
            <option value="manual">Only when I run it</option>
            <option value="interval">Every few minutes</option>
            <option value="cron">On a cron schedule (UTC)</option>
          </select>
        </label>
        {scheduleKind === "interval" && (
          <label>
            Minutes between runs
            <input type="number" min={1} value={minutes} onChange={(e) => setMinutes(e.target.value)} />
          </label>
        )}
        {scheduleKind === "cron" && (
          <label>
            Cron expression
            <input value={expression} onChange={(e) => setExpression(e.target.value)} />
          </label>
        )}
        <FormActions action="Create sync" pending={create.isPending} error={create.error} onCancel={() => navigate(base)} />
      </form>
    </>
  );
}
