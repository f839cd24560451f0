// The sync form's mapping and schedule as the API takes them (pure, tested in mapping.test.ts).

/** "trait = column" lines into {trait: column}; a line with one name maps it to itself. Empty
 * lines are skipped; a line that names nothing on one side is an error naming it. */
export function parseFields(text: string): { fields: Record<string, string>; error: string | null } {
  const fields: Record<string, string> = {};
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line) continue;
    const [left, right, ...rest] = line.split("=").map((part) => part.trim());
    const name = left ?? "";
    const column = right === undefined ? name : right;
    if (!name || !column || rest.length) {
      return { fields: {}, error: `Line ${index + 1} should read “name = column”.` };
    }
    fields[name] = column;
  }
  return { fields, error: null };
}

export type ScheduleKind = "manual" | "interval" | "cron";

/** The schedule body: by hand, every N minutes, or a cron expression (UTC). */
export function scheduleOf(kind: ScheduleKind, minutes: string, expression: string): Record<string, unknown> {
  if (kind === "interval") return { kind, seconds: Math.round(Number(minutes) * 60) };
  if (kind === "cron") return { kind, expression: expression.trim() };
  return { kind: "manual" };
}
