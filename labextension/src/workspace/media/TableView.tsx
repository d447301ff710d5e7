/**
 * Tables: a tab per run, a slider over that run's steps, and the table at that step, sortable
 * by a click on a column's header and paged (`PAGE_ROWS` a page), with its row count.
 */
import * as React from 'react';

import { IMediaRecord } from '../../tokens';
import { IMediaViewProps, RunLabel, StepSlider, useBlobText } from './parts';
import { MediaStore } from './store';
import { useSteps } from './useSteps';

/** Rows a page. */
export const PAGE_ROWS = 20;

type Cell = unknown;

interface ITableData {
  columns: string[];
  data: Cell[][];
}

/**
 * The blob's JSON. nbtrack writes NaN and Infinity as bare words (Python's JSON), which
 * JSON.parse refuses: outside strings they are read as the strings "NaN", "Infinity".
 */
export function parseTable(text: string): ITableData {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = JSON.parse(
      text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, m => (m[0] === '"' ? m : `"${m}"`))
    );
  }
  const v = value as { columns?: unknown; data?: unknown };
  return {
    columns: Array.isArray(v.columns) ? v.columns.map(String) : [],
    data: Array.isArray(v.data) ? (v.data as Cell[][]) : []
  };
}

function isEmpty(value: Cell): boolean {
  return value === null || value === undefined || value === '';
}

/** Numbers before text, both ascending; empty cells last. */
function compareCells(a: Cell, b: Cell): number {
  const emptyA = isEmpty(a);
  const emptyB = isEmpty(b);
  if (emptyA || emptyB) {
    return emptyA === emptyB ? 0 : emptyA ? 1 : -1;
  }
  if (typeof a === 'number' && typeof b === 'number') {
    return a - b;
  }
  if (typeof a === 'number' || typeof b === 'number') {
    return typeof a === 'number' ? -1 : 1;
  }
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function cellText(value: Cell): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** One logged table: sortable headers, a page of rows, the pager. */
export function DataTable(props: { table: ITableData }): JSX.Element {
  const { columns, data } = props.table;
  const [sort, setSort] = React.useState<{ column: number; desc: boolean } | null>(null);
  const [page, setPage] = React.useState(0);
  const rows = React.useMemo(() => {
    if (!sort) {
      return data;
    }
    const sign = sort.desc ? -1 : 1;
    return data
      .map((row, i) => [row, i] as const)
      .sort(([a, i], [b, j]) => {
        const order = compareCells(a[sort.column], b[sort.column]);
        // Empty cells stay last either way; ties keep the logged order.
        const empty = isEmpty(a[sort.column]) || isEmpty(b[sort.column]);
        return (empty ? order : sign * order) || i - j;
      })
      .map(([row]) => row);
  }, [data, sort]);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
  const current = Math.min(page, pages - 1);
  const first = current * PAGE_ROWS;
  const shown = rows.slice(first, first + PAGE_ROWS);

  const onSort = (column: number) => {
    setSort(sort?.column === column ? { column, desc: !sort.desc } : { column, desc: false });
    setPage(0);
  };

  return (
    <div className="nbtrack-ws-table-media">
      <div className="nbtrack-ws-table-media-scroll">
        <table className="nbtrack-table nbtrack-ws-data-table">
          <thead>
            <tr>
              {columns.map((name, i) => (
                <th
                  key={i}
                  aria-sort={
                    sort?.column === i ? (sort.desc ? 'descending' : 'ascending') : 'none'
                  }
                >
                  <button
                    className="nbtrack-ws-sort"
                    title={`Sort by ${name}`}
                    onClick={() => onSort(i)}
                  >
                    {name}
                    <span className="nbtrack-ws-sort-mark">
                      {sort?.column === i ? (sort.desc ? ' ▾' : ' ▴') : ''}
                    </span>
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((row, r) => (
              <tr key={first + r}>
                {columns.map((_, c) => (
                  <td key={c} className={typeof row[c] === 'number' ? 'nbtrack-num' : undefined}>
                    {cellText(row[c])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="nbtrack-ws-pager">
        <span className="nbtrack-ws-row-count">
          {rows.length.toLocaleString()} {rows.length === 1 ? 'row' : 'rows'}
        </span>
        <span className="nbtrack-spacer" />
        <button
          className="nbtrack-ws-icon nbtrack-ws-page-prev"
          disabled={current === 0}
          title="Previous page"
          onClick={() => setPage(current - 1)}
        >
          ‹
        </button>
        <span className="nbtrack-ws-page">
          {rows.length ? `${first + 1}–${first + shown.length}` : '0'} of{' '}
          {rows.length.toLocaleString()}
        </span>
        <button
          className="nbtrack-ws-icon nbtrack-ws-page-next"
          disabled={current >= pages - 1}
          title="Next page"
          onClick={() => setPage(current + 1)}
        >
          ›
        </button>
      </div>
    </div>
  );
}

function LoggedTable(props: { item: IMediaRecord; store: MediaStore }): JSX.Element {
  const text = useBlobText(props.store, props.item.blob, props.item.key);
  const table = React.useMemo(() => {
    if (text === undefined) {
      return undefined;
    }
    try {
      return parseTable(text);
    } catch {
      return null;
    }
  }, [text]);
  if (table === undefined) {
    return <div className="nbtrack-ws-media-empty">Loading…</div>;
  }
  if (table === null) {
    return <div className="nbtrack-error">This table's data is not valid JSON</div>;
  }
  return <DataTable table={table} />;
}

/** A table key: a tab per run, the chosen run's table at the slider's step. */
export function TableView(props: IMediaViewProps): JSX.Element {
  const [chosen, setChosen] = React.useState<string | null>(null);
  const run = props.runs.find(r => r.id === chosen) ?? props.runs[0];
  const runIds = React.useMemo(() => [run.id], [run.id]);
  const steps = useSteps(props.mediaKey, runIds, props.store, props.version, props.active);
  const values = steps.valuesOf(run.id);
  return (
    <>
      <div className="nbtrack-ws-tabs" role="tablist">
        {props.runs.map(r => (
          <button
            key={r.id}
            role="tab"
            aria-selected={r.id === run.id}
            className={'nbtrack-ws-tab' + (r.id === run.id ? ' nbtrack-active' : '')}
            data-run-id={r.id}
            onClick={() => setChosen(r.id)}
          >
            <RunLabel run={r} />
          </button>
        ))}
      </div>
      <StepSlider
        steps={steps.steps}
        step={steps.step}
        following={steps.following}
        onStep={steps.setStep}
      />
      <div
        className={'nbtrack-ws-table-values' + (values.stale ? ' nbtrack-ws-stale' : '')}
        data-run-id={run.id}
        data-step={values.step ?? ''}
      >
        {!values.items ? (
          <div className="nbtrack-ws-media-empty">Loading…</div>
        ) : (
          values.items.map(item => (
            <LoggedTable key={item.idx} item={item} store={props.store} />
          ))
        )}
      </div>
    </>
  );
}
