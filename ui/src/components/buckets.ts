// Time series for charts: counts summed per time bucket, with every bucket of the range present
// (0 where nothing happened), so that a chart spans the range asked for and not only the
// buckets that had data (one bucket alone would make the chart's time axis meaningless).

export interface Series {
  times: number[]; // seconds since the epoch, one per bucket
  values: Record<string, number[]>;
}

export const STEP = { minute: 60, hour: 3600, day: 86_400 } as const;

/** Sums `fields` of `rows` per bucket of `step` seconds (a row's bucket is its `at` time, ISO
 * 8601, cut down to the step), with every bucket from `since` to now present. */
export function perBucket<Row>(
  rows: Row[],
  at: (row: Row) => string,
  fields: Record<string, (row: Row) => number>,
  since: string,
  step: number = STEP.hour,
): Series {
  const buckets = new Map<number, Record<string, number>>();
  for (const row of rows) {
    const time = Math.floor(Date.parse(at(row)) / 1000 / step) * step;
    const sums = buckets.get(time) ?? Object.fromEntries(Object.keys(fields).map((name) => [name, 0]));
    for (const [name, read] of Object.entries(fields)) sums[name] = (sums[name] ?? 0) + read(row);
    buckets.set(time, sums);
  }
  if (buckets.size === 0) return { times: [], values: {} };
  const first = Math.floor(Date.parse(since) / 1000 / step) * step;
  const last = Math.floor(Date.now() / 1000 / step) * step;
  const times: number[] = [];
  for (let time = first; time <= last; time += step) times.push(time);
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
