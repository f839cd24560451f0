// Starting people in a journey by hand, in words: the ids pasted, the properties typed, and the
// API's answer (how many entered, who did not and why). Pure: StartPeople.tsx draws it.

/** Profiles one start takes at most (the API's `START_LIMIT`). */
export const START_LIMIT = 1000;

/** Ids pasted one a line, or separated by commas, semicolons or spaces; each once, in order. */
export function pastedIds(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter((id) => id !== ""))];
}

/** The profiles to start: those chosen from the search, then the pasted ones, each once. */
export function startList(chosen: string[], pasted: string): string[] {
  return [...new Set([...chosen, ...pastedIds(pasted)])];
}

export type Properties = { value: Record<string, unknown> } | { wrong: string };

/** The properties typed (a JSON object; nothing typed is none), or what is wrong with them. */
export function readProperties(text: string): Properties {
  if (text.trim() === "") return { value: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { wrong: "This is not JSON yet. Write an object, like {\"coupon\": \"SPRING\"}." };
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { wrong: "Properties are a JSON object of names and values, like {\"coupon\": \"SPRING\"}." };
  }
  return { value: parsed as Record<string, unknown> };
}

/** Why nothing can be started yet (null: it can). */
export function startBlocked(ids: string[], properties: Properties): string | null {
  if ("wrong" in properties) return "Fix the properties first.";
  if (ids.length === 0) return "Choose or paste at least one profile.";
  if (ids.length > START_LIMIT) return `One start takes at most ${START_LIMIT.toLocaleString()} profiles: split the list.`;
  return null;
}

const REASONS: Record<string, string> = {
  "no such profile": "no profile has this id in the workspace (or it was merged into another)",
  "the entry rule keeps it out": "the journey's entry rule keeps them out (they are in it already, or entered before)",
};

/** The API's reason for a profile not started, in plain words. */
export function reasonWords(reason: string): string {
  return REASONS[reason] ?? reason;
}

export interface Started {
  entered: number;
  skipped: { profile_id: string; reason: string }[];
}

/** The answer in one sentence: "2 people started; 1 was not." */
export function startedWords({ entered, skipped }: Started): string {
  const people = (n: number) => (n === 1 ? "1 person" : `${n.toLocaleString()} people`);
  const started = entered === 0 ? "Nobody started" : `${people(entered)} started`;
  if (skipped.length === 0) return `${started}.`;
  return `${started}; ${skipped.length === 1 ? "1 was" : `${skipped.length.toLocaleString()} were`} not.`;
}
