/**
 * The console's tables: one column list says each column's header, its cell and whether it holds
 * numbers (right-aligned, tabular figures); every screen's table is this markup, so headers carry
 * `scope`, numbers line up and a fixed layout names its column widths in one place.
 */
import { Fragment, type ReactElement, type ReactNode } from 'react';
import { fileName } from './format.js';

export interface Column<T> {
  /** The header's text; also the column's React key unless `key` is given. */
  header: ReactNode;
  key?: string;
  /** Numbers: right-aligned in the header and the cells. */
  num?: boolean;
  /** Class of the body cells (besides `num`), or of each cell by its row. */
  className?: string | ((row: T) => string | undefined);
  /** Class of the column's `<col>` when the table has a fixed layout (`cols`). */
  col?: string;
  /** A hover title of the body cell. */
  title?(row: T): string | undefined;
  /** The cell heads its row (`<th scope="row">`). */
  rowHeader?: boolean;
  /** A whole header cell instead of `header` (a sort button). */
  headerCell?: ReactElement;
  cell(row: T): ReactNode;
}

export interface DataTableProps<T> {
  columns: Column<T>[];
  rows: readonly T[];
  rowKey(row: T, index: number): string | number;
  rowClass?(row: T): string | undefined;
  /** Extra class of the table (`report-table`, `attention-table`). */
  className?: string;
  /** A caption for screen readers only. */
  caption?: string;
  /** The wrapper's class; `false` for none. */
  wrap?: string | false;
  /** Emit a `<colgroup>` from the columns' `col` classes. */
  cols?: boolean;
  /** Rows after the body (totals). */
  foot?: ReactNode;
}

function cellClass<T>(c: Column<T>, row: T): string | undefined {
  const own = typeof c.className === 'function' ? c.className(row) : c.className;
  return [c.num ? 'num' : '', own ?? ''].filter(Boolean).join(' ') || undefined;
}

export function DataTable<T>({ columns, rows, rowKey, rowClass, className, caption, wrap = 'table-wrap', cols, foot }: DataTableProps<T>) {
  const keyOf = (c: Column<T>, i: number) => c.key ?? (typeof c.header === 'string' ? c.header : String(i));
  const table = (
    <table className={className ? `table ${className}` : 'table'}>
      {caption && <caption className="visually-hidden">{caption}</caption>}
      {cols && (
        <colgroup>
          {columns.map((c, i) => (
            <col key={keyOf(c, i)} className={c.col} />
          ))}
        </colgroup>
      )}
      <thead>
        <tr>
          {columns.map((c, i) =>
            c.headerCell ? (
              <Fragment key={keyOf(c, i)}>{c.headerCell}</Fragment>
            ) : (
              <th key={keyOf(c, i)} scope="col" className={c.num ? 'num' : undefined}>
                {c.header}
              </th>
            ),
          )}
        </tr>
      </thead>
      <tbody>
        {rows.map((row, ri) => (
          <tr key={rowKey(row, ri)} className={rowClass?.(row)}>
            {columns.map((c, i) =>
              c.rowHeader ? (
                <th key={keyOf(c, i)} scope="row" className={cellClass(c, row)} title={c.title?.(row)}>
                  {c.cell(row)}
                </th>
              ) : (
                <td key={keyOf(c, i)} className={cellClass(c, row)} title={c.title?.(row)}>
                  {c.cell(row)}
                </td>
              ),
            )}
          </tr>
        ))}
      </tbody>
      {foot && <tfoot>{foot}</tfoot>}
    </table>
  );
  return wrap === false ? table : <div className={wrap}>{table}</div>;
}

/** A file's short name, the whole key on hover: the first column of the run and plan tables. */
export function fileColumn<T>(keyOf: (row: T) => string): Column<T> {
  return {
    header: 'File',
    className: 'file-cell',
    cell: (row) => (
      <span className="ellipsis" title={keyOf(row)}>
        {fileName(keyOf(row))}
      </span>
    ),
  };
}
