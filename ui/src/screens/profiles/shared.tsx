// What the profile screens share: a profile's name in a list, a value as text, and the note
// that personal values are hidden (the API masks them; the app never unmasks).
import { useHeld } from "../../app/session";

interface Named {
  id: string;
  traits: Record<string, unknown>;
  identifiers: { type: string; value: string }[];
}

/** A name a person recognises: the name or email trait, else the first identifier. */
export function profileLabel(profile: Named): string {
  for (const trait of ["name", "email"]) {
    const value = profile.traits[trait];
    if (typeof value === "string" && value) return value;
  }
  const first = profile.identifiers[0];
  return first ? `${first.type}: ${first.value}` : profile.id;
}

/** A trait's or property's value as one line of text. */
export function shown(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

export function when(stamp: string): string {
  return new Date(stamp).toLocaleString();
}

/** Shown when the role lacks personal-data access, so that "[masked]" does not read as data. */
export function PersonalNote() {
  const held = useHeld();
  if (!held || held.pii_read) return null;
  return (
    <p className="note" role="note">
      Personal values are hidden: your role lacks personal-data access.
    </p>
  );
}

export function profilePath(workspace: string, id: string): string {
  return `/w/${encodeURIComponent(workspace)}/profiles/${encodeURIComponent(id)}`;
}
