// Counts in words a person reads.

/** "1 event", "3 events": a count with its noun, singular or plural. */
export function counted(count: number, singular: string, plural = `${singular}s`): string {
  return `${count.toLocaleString()} ${count === 1 ? singular : plural}`;
}
