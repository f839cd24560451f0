// JSON as an expandable tree (react-json-view-lite); anything that is not an object or a list
// is shown as text.
import { allExpanded, defaultStyles, JsonView } from "react-json-view-lite";
import "react-json-view-lite/dist/index.css";

// the library's null, number and boolean colours fail WCAG contrast on a grey panel (axe:
// color-contrast)
const STYLES = { ...defaultStyles, nullValue: "json-null", numberValue: "json-number", booleanValue: "json-boolean" };

export function JsonTree({ data }: { data: unknown }) {
  return data !== null && typeof data === "object" ? (
    <JsonView data={data} shouldExpandNode={allExpanded} style={STYLES} />
  ) : (
    <pre tabIndex={0}>{String(data ?? "")}</pre>
  );
}
