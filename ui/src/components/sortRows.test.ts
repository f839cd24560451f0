import type { ColumnDef } from "@tanstack/react-table";
import { describe, expect, it } from "vitest";
import { sortRows } from "./sortRows";

interface Row {
  name: string | null;
  seats: number;
}

const columns: ColumnDef<Row, any>[] = [
  { accessorKey: "name", header: "Name" },
  { id: "size", accessorFn: (row) => row.seats, header: "Seats" },
];
const rows: Row[] = [
  { name: "item 10", seats: 3 },
  { name: null, seats: 1 },
  { name: "item 9", seats: 3 },
  { name: "Alpha", seats: 2 },
];

describe("sortRows", () => {
  it("keeps the rows as they are when unsorted", () => {
    expect(sortRows(rows, columns, [])).toBe(rows);
  });

  it("sorts text with numbers as numbers, empty last", () => {
    const names = sortRows(rows, columns, [{ id: "name", desc: false }]).map((r) => r.name);
    expect(names).toEqual(["Alpha", "item 9", "item 10", null]);
  });

  it("sorts by an accessor function, descending, then by the next key", () => {
    const sorted = sortRows(rows, columns, [
      { id: "size", desc: true },
      { id: "name", desc: false },
    ]);
    expect(sorted.map((r) => r.name)).toEqual(["item 9", "item 10", "Alpha", null]);
  });
});
