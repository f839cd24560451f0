// JSON as an expandable tree (react-json-view-lite); anything that is not an object or a list
// is shown as text.
import { allExpanded, defaultStyles, JsonView } from "react-json-view-lite";
import "react-json-view-lite/dist/index.css";

// the library's null colour fails WCAG contrast on its own background (axe: color-contrast)
const STYLES = { ...defaultStyles, nullValue: "json-null" };

export function JsonTree({ data }: { data: unknown }) {
  return data !== null && typeof data === "object" ? (
    <JsonView data={data} shouldExpandNode={allExpanded} style={STYLES} />
  ) : (
    <pre tabIndex={0}>{String(data ?? "")}</pre>
  );
}
