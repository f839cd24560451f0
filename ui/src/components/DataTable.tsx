// A table of any length: TanStack Table for columns, sorting state and cells, TanStack Virtual
// so that only the rows in view are in the page (100,000 members scroll as smoothly as ten).
// The table is given only the rows in view, already in order (sortRows): its row model costs
// tens of microseconds a row, which over 100,000 rows took seconds each time a page arrived.
import { type ColumnDef, flexRender, getCoreRowModel, type Row, type SortingState, useReactTable } from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useEffect, useMemo, useRef, useState } from "react";
import { sortRows } from "./sortRows";

const ROW_HEIGHT = 36;
// how close to the last loaded row the view comes before `onNearEnd` asks for more: a few
// screens ahead, so that the next page usually arrives before the reader reaches the end
const NEAR_END = 200;

interface Props<T> {
  label: string;
  rows: T[];
  columns: ColumnDef<T, any>[];
  height?: number;
  onRowClick?: (row: T) => void;
  /** Called while the rows in view are within a few screens of the last row (to load more);
   * called again as the view moves or rows arrive, so the caller ignores calls while loading. */
  onNearEnd?: () => void;
}

export function DataTable<T>({ label, rows, columns, height = 480, onRowClick, onNearEnd }: Props<T>) {
  const [sorting, setSorting] = useState<SortingState>([]);
  const ordered = useMemo(() => sortRows(rows, columns, sorting), [rows, columns, sorting]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: ordered.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtual.getVirtualItems();
  const visible = useMemo(() => items.map((item) => ordered[item.index]!), [items, ordered]);
  const table = useReactTable({
    data: visible,
    columns,
    state: { sorting },
    onSortingChange: setSorting,
    manualSorting: true,
    getCoreRowModel: getCoreRowModel(),
  });
  const model = table.getRowModel().rows;
  const before = items[0]?.start ?? 0;
  const after = virtual.getTotalSize() - (items[items.length - 1]?.end ?? 0);
  const width = table.getVisibleLeafColumns().length;
  const last = items[items.length - 1]?.index ?? -1;
  useEffect(() => {
    if (onNearEnd && last >= 0 && last >= ordered.length - NEAR_END) onNearEnd();
  }, [onNearEnd, last, ordered.length]);
  return (
    <div
      className="table-scroll"
      ref={scroller}
      style={{ maxHeight: height }}
      tabIndex={0}
      role="region"
      aria-label={label}
    >
      <table aria-rowcount={ordered.length + 1}>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const sorted = header.column.getIsSorted();
                return (
                  <th
                    key={header.id}
                    scope="col"
                    aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined}
                  >
                    {header.column.getCanSort() ? (
                      <button type="button" className="link" onClick={header.column.getToggleSortingHandler()}>
                        {flexRender(header.column.columnDef.header, header.getContext())}
                        {sorted === "asc" ? " ▲" : sorted === "desc" ? " ▼" : ""}
                      </button>
                    ) : (
                      flexRender(header.column.columnDef.header, header.getContext())
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {before > 0 && (
            <tr aria-hidden="true">
              <td colSpan={width} style={{ height: before, padding: 0, border: 0 }} />
            </tr>
          )}
          {items.map((item, at) => (
            <BodyRow key={item.key} row={model[at]!} index={item.index} columns={columns} onRowClick={onRowClick} />
          ))}
          {after > 0 && (
            <tr aria-hidden="true">
              <td colSpan={width} style={{ height: after, padding: 0, border: 0 }} />
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

interface RowProps<T> {
  row: Row<T>;
  index: number;
  // not read: a change of columns draws the row again
  columns: ColumnDef<T, any>[];
  onRowClick: ((row: T) => void) | undefined;
}

function BodyRowView<T>({ row, index, onRowClick }: RowProps<T>) {
  return (
    <tr
      // the header is row 1; screen readers tell which of all the rows this is
      aria-rowindex={index + 2}
      style={{ height: ROW_HEIGHT }}
      className={onRowClick ? "clickable" : undefined}
      // a row that opens something opens with Enter too, from the keyboard
      tabIndex={onRowClick ? 0 : undefined}
      onClick={onRowClick ? () => onRowClick(row.original) : undefined}
      onKeyDown={onRowClick ? (event) => event.key === "Enter" && onRowClick(row.original) : undefined}
    >
      {row.getVisibleCells().map((cell) => (
        <td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</td>
      ))}
    </tr>
  );
}

// TanStack Table makes new Row objects whenever the rows in view change (each scroll step), so
// a row is the same when it shows the same item at the same place with the same columns; then a
// scroll renders only the rows that came into view, not every row in view again
const BodyRow = memo(
  BodyRowView,
  (a, b) =>
    a.row.original === b.row.original &&
    a.index === b.index &&
    a.onRowClick === b.onRowClick &&
    a.columns === b.columns,
) as typeof BodyRowView;
