// What the API found wrong in a destination, field by field, in the form's own words: a
// filter by its place in the list, a delivery option by its label.
import { ApiError, type FieldError } from "../../api/errors";
import { NUMBER_OPTIONS } from "./delivery";

// A condition is one of these shapes: the API reports a wrong condition against each of them.
const SHAPES = new Set(["Compare", "AllOf", "AnyOf", "NotOf"]);

/** The errors of the shape meant (the one with fewest errors), not every shape's. */
function meant(fields: FieldError[]): FieldError[] {
  const shapeOf = (field: string) => {
    const parts = field.split(".");
    const at = parts.findIndex((part) => SHAPES.has(part));
    return at < 0 ? null : { where: parts.slice(0, at).join("."), shape: parts.slice(0, at + 1).join(".") };
  };
  const counts = new Map<string, number>();
  for (const { field } of fields) {
    const found = shapeOf(field);
    if (found) counts.set(found.shape, (counts.get(found.shape) ?? 0) + 1);
  }
  const best = new Map<string, string>();
  for (const [shape, count] of counts) {
    const where = shape.slice(0, shape.lastIndexOf("."));
    const current = best.get(where);
    if (current === undefined || count < (counts.get(current) ?? Infinity)) best.set(where, shape);
  }
  return fields.filter(({ field }) => {
    const found = shapeOf(field);
    return !found || best.get(found.where) === found.shape;
  });
}

function where(field: string): string {
  const [first, ...rest] = field.split(".").filter((part) => !SHAPES.has(part));
  if (first !== undefined && /^\d+$/.test(first)) {
    return `Filter ${Number(first) + 1}${rest.length ? ` (${rest.join(" › ")})` : ""}`;
  }
  return NUMBER_OPTIONS.find((option) => option.key === first)?.label ?? field;
}

export function FieldErrors({ error }: { error: unknown }) {
  if (!(error instanceof ApiError) || error.fields.length === 0) return null;
  return (
    <ul className="note error" aria-label="What to fix">
      {meant(error.fields).map((problem, index) => (
        <li key={index}>
          {where(problem.field)}: {problem.message}
        </li>
      ))}
    </ul>
  );
}
