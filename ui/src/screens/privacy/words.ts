// The privacy screens' words: the API's codes (Segment's regulation types and statuses, PII
// actions, retention stores) said the way a person reads them, and the parsing of what a person
// types into the deletion form.

export type RegulationType =
  | "SUPPRESS_WITH_DELETE"
  | "DELETE_ONLY"
  | "SUPPRESS_ONLY"
  | "UNSUPPRESS"
  | "SUPPRESS_WITH_DELETE_INTERNAL"
  | "DELETE_INTERNAL";

export type SubjectType = "USER_ID" | "ANONYMOUS_ID";

/** The choices the deletion form offers, in the order it offers them. */
export const REGULATION_CHOICES: { type: RegulationType; label: string; help: string; deletes: boolean }[] = [
  {
    type: "SUPPRESS_WITH_DELETE",
    label: "Delete and stop collecting",
    help: "Erase everything held about the person, in Headwater and in the destinations that can delete, and drop their future messages.",
    deletes: true,
  },
  {
    type: "DELETE_ONLY",
    label: "Delete only",
    help: "Erase everything held about the person, in Headwater and in the destinations that can delete. New messages are still collected.",
    deletes: true,
  },
  {
    type: "SUPPRESS_ONLY",
    label: "Stop collecting only",
    help: "Drop the person's future messages at collection. Nothing already held is erased.",
    deletes: false,
  },
  {
    type: "UNSUPPRESS",
    label: "Collect again",
    help: "Undo “stop collecting”: the person's messages are collected again from now on.",
    deletes: false,
  },
];

const TYPE_WORDS: Record<string, string> = {
  SUPPRESS_WITH_DELETE: "Delete and stop collecting",
  DELETE_ONLY: "Delete only",
  SUPPRESS_ONLY: "Stop collecting only",
  UNSUPPRESS: "Collect again",
  SUPPRESS_WITH_DELETE_INTERNAL: "Delete in Headwater only and stop collecting",
  DELETE_INTERNAL: "Delete in Headwater only",
  DELETE_ARCHIVE_ONLY: "Delete from archives only",
};

export function regulationWords(type: string): string {
  return TYPE_WORDS[type] ?? type;
}

const STATUS_WORDS: Record<string, string> = {
  INITIALIZED: "Waiting to start",
  RUNNING: "In progress",
  FINISHED: "Done",
  PARTIAL_SUCCESS: "Partly done",
  FAILED: "Failed",
  NOT_SUPPORTED: "Not supported",
  INVALID: "Not valid",
  // subject access exports
  queued: "Waiting to start",
  running: "In progress",
  done: "Ready",
  failed: "Failed",
};

export function statusWords(status: string): string {
  return STATUS_WORDS[status] ?? status;
}

/** True while a regulation or an export may still change (the list is polled meanwhile). */
export function stillWorking(status: string): boolean {
  return status === "INITIALIZED" || status === "RUNNING" || status === "queued" || status === "running";
}

export function subjectWords(type: string): string {
  return type === "ANONYMOUS_ID" ? "anonymous id" : "user id";
}

export const MAX_SUBJECTS = 5000;

/** The ids typed into the form: one a line (or separated by commas), trimmed, blanks and
 * repeats left out, in the order typed. */
export function parseSubjects(text: string): string[] {
  const seen = new Set<string>();
  for (const part of text.split(/[\n,]/)) {
    const id = part.trim();
    if (id) seen.add(id);
  }
  return [...seen];
}

/** What is wrong with the ids typed, in plain words, or null when they can be sent. */
export function subjectsProblem(ids: string[]): string | null {
  if (ids.length === 0) return "Type at least one id: one a line.";
  if (ids.length > MAX_SUBJECTS) return `At most ${MAX_SUBJECTS.toLocaleString()} people at once: split the list.`;
  const long = ids.find((id) => id.length > 1000);
  if (long) return `“${long.slice(0, 40)}…” is longer than an id can be.`;
  return null;
}

export const PII_ACTIONS: { action: string; label: string }[] = [
  { action: "mask", label: "Mask (keep the shape, hide the value)" },
  { action: "hash", label: "Hash (replace with a fingerprint)" },
  { action: "redact", label: "Redact (replace with a placeholder)" },
  { action: "drop", label: "Remove the field" },
  { action: "block", label: "Block the whole message" },
  { action: "allow", label: "Allow (not personal)" },
];

export function actionWords(action: string): string {
  const found = PII_ACTIONS.find((a) => a.action === action);
  return found ? found.label.replace(/ \(.*\)$/, "") : action;
}

export const DETECTORS: { name: string; label: string }[] = [
  { name: "email", label: "Email address" },
  { name: "phone", label: "Phone number" },
  { name: "card", label: "Payment card number" },
  { name: "iban", label: "Bank account (IBAN)" },
  { name: "government_id", label: "Government id (SSN, …)" },
  { name: "ip", label: "IP address" },
  { name: "location", label: "Location (coordinates)" },
];

export function detectorWords(name: string): string {
  return DETECTORS.find((d) => d.name === name)?.label ?? name;
}

/** Why the inbox lists a field: what its values looked like, else its name. */
export function whyPersonal(detected: string[]): string {
  if (detected.length === 0) return "Its name looks personal";
  const kinds = detected.map((name) => detectorWords(name).toLowerCase());
  return `Values look like: ${kinds.join(", ")}`;
}

export type Store = "events" | "rejections" | "quarantine" | "delivery_logs" | "journey_history";

export const STORES: { store: Store; label: string }[] = [
  { store: "events", label: "Events" },
  { store: "rejections", label: "Rejected messages" },
  { store: "quarantine", label: "Quarantined messages (tracking plans)" },
  { store: "delivery_logs", label: "Delivery logs (dead letters)" },
  { store: "journey_history", label: "Journey history" },
];

export function storeWords(store: string): string {
  return STORES.find((s) => s.store === store)?.label ?? store;
}

export interface WindowRow {
  store: Store;
  /** null: the whole workspace */
  source_id: number | null;
  days: string;
}

/** The windows as the API takes them, or the first problem in plain words. */
export function windowsOut(
  rows: WindowRow[],
): { windows: { store: Store; source_id: number | null; days: number }[] } | { problem: string } {
  const seen = new Set<string>();
  const windows = [];
  for (const [at, row] of rows.entries()) {
    const days = Number(row.days);
    if (!/^\d+$/.test(row.days.trim()) || days < 1 || days > 36500) {
      return { problem: `Row ${at + 1}: the days are a whole number from 1 to 36,500.` };
    }
    const key = `${row.store}/${row.source_id ?? "all"}`;
    if (seen.has(key)) return { problem: `Row ${at + 1} repeats a store and source already above: keep one.` };
    seen.add(key);
    windows.push({ store: row.store, source_id: row.source_id, days });
  }
  return { windows };
}
