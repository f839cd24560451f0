// Time series of the overview: counts per hour, summed over sources or destinations.

export interface Series {
  times: number[]; // seconds since the epoch, one per hour bucket
  values: Record<string, number[]>;
}

/** Sums `fields` of `rows` per bucket (its `at` time, ISO 8601), buckets in time order. */
export function perBucket<Row>(rows: Row[], at: (row: Row) => string, fields: Record<string, (row: Row) => number>): Series {
  const buckets = new Map<number, Record<string, number>>();
  for (const row of rows) {
    const time = Date.parse(at(row)) / 1000;
    const sums = buckets.get(time) ?? Object.fromEntries(Object.keys(fields).map((name) => [name, 0]));
    for (const [name, read] of Object.entries(fields)) sums[name] = (sums[name] ?? 0) + read(row);
    buckets.set(time, sums);
  }
  const times = [...buckets.keys()].sort((a, b) => a - b);
  const values = Object.fromEntries(
    Object.keys(fields).map((name) => [name, times.map((time) => buckets.get(time)![name] ?? 0)]),
  );
  return { times, values };
}

export function total(values: number[] | undefined): number {
  return (values ?? []).reduce((sum, value) => sum + value, 0);
}
