// A request and its response as Headwater recorded them (masked by the API), in a JSON viewer:
// a body that is JSON is shown as a tree, anything else as it came.
import { JsonTree as Json } from "../../components/JsonTree";

function readable(body: unknown): unknown {
  if (typeof body !== "string") return body;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

export function Exchange({ exchange }: { exchange: Record<string, unknown> | null | undefined }) {
  if (!exchange) return <p className="muted">No request was recorded.</p>;
  const { method, url, request_headers, request_body, status, response_headers, response_body, error } = exchange;
  return (
    <div className="exchange">
      <h3>Request</h3>
      <p>
        <code>
          {String(method ?? "")} {String(url ?? "")}
        </code>
      </p>
      <Json data={{ headers: request_headers, body: readable(request_body) }} />
      <h3>Response</h3>
      {error ? (
        <p>No response: {String(error)}</p>
      ) : (
        <>
          <p>Status {String(status)}</p>
          <Json data={{ headers: response_headers, body: readable(response_body) }} />
        </>
      )}
    </div>
  );
}

export { Json };
