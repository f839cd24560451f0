// Time series of the overview: counts per hour, summed over sources or destinations.

export interface Series {
  times: number[]; // seconds since the epoch, one per hour bucket
  values: Record<string, number[]>;
}

const HOUR = 3600;

/** Sums `fields` of `rows` per hour bucket (its `at` time, ISO 8601), with every hour from
 * `since` to now present (0 where nothing happened), so that a chart spans the whole range. */
export function perBucket<Row>(
  rows: Row[],
  at: (row: Row) => string,
  fields: Record<string, (row: Row) => number>,
  since: string,
): Series {
  const buckets = new Map<number, Record<string, number>>();
  for (const row of rows) {
    const time = Date.parse(at(row)) / 1000;
    const sums = buckets.get(time) ?? Object.fromEntries(Object.keys(fields).map((name) => [name, 0]));
    for (const [name, read] of Object.entries(fields)) sums[name] = (sums[name] ?? 0) + read(row);
    buckets.set(time, sums);
  }
  if (buckets.size === 0) return { times: [], values: {} };
  const first = Math.floor(Date.parse(since) / 1000 / HOUR) * HOUR;
  const last = Math.floor(Date.now() / 1000 / HOUR) * HOUR;
  const times: number[] = [];
  for (let time = first; time <= last; time += HOUR) times.push(time);
  for (const time of buckets.keys()) if (time < first || time > last) times.push(time);
  times.sort((a, b) => a - b);
  const values = Object.fromEntries(
    Object.keys(fields).map((name) => [name, times.map((time) => buckets.get(time)?.[name] ?? 0)]),
  );
  return { times, values };
}

export function total(values: number[] | undefined): number {
  return (values ?? []).reduce((sum, value) => sum + value, 0);
}
