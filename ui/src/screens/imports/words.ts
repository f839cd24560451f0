// The words and the mapping state of the Imports screen (pure, tested in words.test.ts).
import type { components } from "../../api/schema";

type Import = components["schemas"]["ImportView"];
type MappingIn = components["schemas"]["MappingIn"];
type MappingView = components["schemas"]["MappingView"];
type RowError = components["schemas"]["RowErrorView"];

export type Kind = "profiles" | "events" | "accounts";

export const KINDS: Record<Kind, { label: string; help: string }> = {
  profiles: { label: "Profiles", help: "one person per row, with their traits" },
  events: { label: "Events", help: "one thing a person did per row, with its name and time" },
  accounts: { label: "Accounts", help: "one company per row, with a member and its traits" },
};

type Holds = "user_id" | "user_id+field" | "anonymous_id" | "group_id" | "event" | "timestamp" | "key" | "field" | "skip";
/** What a column holds, and its trait or property name when it is one. */
export type Role = { role: Holds; name: string };
export type Roles = Record<string, Role>;

const IDENTIFIERS = ["user_id", "anonymous_id", "group_id", "event", "timestamp"] as const;

/** The choices of a column, in plain words, for an import of ``kind``. */
export function roleChoices(kind: Kind, fieldWord: string): [Holds, string][] {
  const words: [Holds, string][] = [
    ["field", `A ${fieldWord}`],
    ["user_id", "The person's user ID"],
    ["user_id+field", `The person's user ID, also kept as a ${fieldWord}`],
    ["anonymous_id", "An anonymous ID (device or visitor)"],
  ];
  if (kind === "accounts") words.push(["group_id", "The account's ID"]);
  if (kind === "events") words.push(["event", "The event's name"]);
  words.push(["timestamp", "When it happened"], ["key", "A unique row ID (an order number)"], ["skip", "Leave it out"]);
  return words;
}

/** Each column's role in ``mapping`` (a column both an identifier and a field: "user_id+field"). */
export function rolesOf(mapping: MappingView, columns: string[]): Roles {
  const roles: Roles = {};
  for (const column of columns) {
    const field = mapping.fields?.[column];
    let role: Holds = field !== undefined ? "field" : "skip";
    for (const identifier of IDENTIFIERS) {
      if (mapping[identifier] === column) role = identifier;
    }
    if (mapping.key === column && role === "skip") role = "key";
    if (role === "user_id" && field !== undefined) role = "user_id+field";
    roles[column] = { role, name: field ?? column };
  }
  return roles;
}

/** The mapping the roles say (the last column given a role wins it). */
export function mappingOf(roles: Roles): MappingIn {
  const mapping: MappingIn = { fields: {} };
  for (const [column, { role, name }] of Object.entries(roles)) {
    if (role === "field" || role === "user_id+field") mapping.fields![column] = name.trim() || column;
    if (role === "user_id+field") mapping.user_id = column;
    else if (role !== "field" && role !== "skip") mapping[role] = column;
  }
  return mapping;
}

/** A row's problem in plain words. */
export function rowError(error: RowError): string {
  const where = error.column ? `Row ${error.row}, column “${error.column}”` : `Row ${error.row}`;
  let message = error.message;
  if (/^timestamp: not an ISO-8601 timestamp/.test(message)) {
    message = "is not a date and time (write it as 2026-01-31T14:05:00Z)";
  } else if (/^timestamp/.test(message)) {
    message = `has a date and time that cannot be used (${message.replace(/^timestamp:?\s*/, "")})`;
  }
  message = message.replace(/^row /, "");
  const joined = /^(is|has) /.test(message) ? `${where} ${message}` : `${where}: ${message}`;
  return /[.!?)]$/.test(joined) ? joined : `${joined}.`;
}

/** An import's state in plain words. */
export function statusWords(job: Import): string {
  switch (job.status) {
    case "uploaded":
      return "Uploaded: choose the columns, then import";
    case "queued":
      return "Waiting to start";
    case "running":
      return `Importing: ${job.checkpoint.toLocaleString()} of ${job.rows_total.toLocaleString()} rows`;
    case "done":
      return "Done";
    case "failed":
      return `Failed: ${job.failure ?? "see the server's log"}`;
  }
}
