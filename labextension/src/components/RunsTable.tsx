import * as React from 'react';

import { IRunRecord } from '../tokens';
import { formatDateTime, formatDuration, formatNumber, formatTime } from './format';
import { StatusBadge } from './StatusBadge';

export interface IRunsTableProps {
  runs: IRunRecord[];
  total: number;
  loading: boolean;
  sort: string;
  order: 'asc' | 'desc';
  /** The metric whose summary is shown as a column. */
  metric: string | null;
  selected: string[];
  openRunId: string | null;
  onSort: (sort: string) => void;
  onToggle: (id: string) => void;
  onToggleAll: () => void;
  onOpen: (id: string) => void;
  onLoadMore: () => void;
  /** Changes when the list starts over (new sort or filter): scrolls back to the top. */
  resetKey: string;
}

interface IColumn {
  title: string;
  /** The server's sort key; none: not sortable. */
  sort?: string;
  className: string;
  cell: (run: IRunRecord) => React.ReactNode;
}

function columns(metric: string | null): IColumn[] {
  const cols: IColumn[] = [
    {
      title: 'Status',
      sort: 'status',
      className: 'nbtrack-col-status',
      cell: run => <StatusBadge status={run.status} />
    },
    {
      title: '#',
      sort: 'number',
      className: 'nbtrack-col-number',
      cell: run => run.number
    },
    {
      title: 'Name',
      sort: 'name',
      className: 'nbtrack-col-name',
      cell: run => <span title={run.notes || run.name}>{run.name}</span>
    }
  ];
  if (metric) {
    cols.push({
      title: metric,
      sort: `metrics.${metric}`,
      className: 'nbtrack-col-metric',
      cell: run => formatNumber(run.summary[metric])
    });
  }
  cols.push(
    {
      title: 'Started',
      sort: 'started',
      className: 'nbtrack-col-started',
      cell: run => <span title={formatDateTime(run.started)}>{formatTime(run.started)}</span>
    },
    {
      title: 'Duration',
      sort: 'duration',
      className: 'nbtrack-col-duration',
      cell: run => formatDuration(run.duration)
    },
    {
      title: 'Notebook',
      sort: 'notebook',
      className: 'nbtrack-col-notebook',
      cell: run => <span title={run.notebook ?? ''}>{basename(run.notebook)}</span>
    },
    {
      title: 'Tags',
      className: 'nbtrack-col-tags',
      cell: run => (
        <>
          {run.tags.map(tag => (
            <span key={tag} className="nbtrack-tag">
              {tag}
            </span>
          ))}
        </>
      )
    }
  );
  return cols;
}

function basename(path: string | null): string {
  return path ? path.split('/').pop() ?? path : '';
}

/** The runs list: sortable headers (sorted on the server), checkboxes, paging. */
export function RunsTable(props: IRunsTableProps): JSX.Element {
  const cols = columns(props.metric);
  const allSelected =
    props.runs.length > 0 && props.runs.every(run => props.selected.includes(run.id));
  const scroller = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => {
    scroller.current?.scrollTo({ top: 0 });
  }, [props.resetKey]);
  return (
    <>
      <div className="nbtrack-runs-scroll" ref={scroller}>
        <table className="nbtrack-runs-table">
          <thead>
            <tr>
              <th className="nbtrack-col-select">
                <input
                  type="checkbox"
                  title="Select all loaded runs"
                  checked={allSelected}
                  onChange={props.onToggleAll}
                />
              </th>
              {cols.map(col => {
                const sorted = col.sort !== undefined && col.sort === props.sort;
                return (
                  <th
                    key={col.title}
                    className={
                      col.className +
                      (col.sort ? ' nbtrack-sortable' : '') +
                      (sorted ? ` nbtrack-sorted nbtrack-sorted-${props.order}` : '')
                    }
                    data-sort={col.sort}
                    aria-sort={sorted ? (props.order === 'asc' ? 'ascending' : 'descending') : 'none'}
                    title={col.sort ? `Sort by ${col.title}` : undefined}
                    onClick={col.sort ? () => props.onSort(col.sort!) : undefined}
                  >
                    {col.title}
                    {sorted ? (props.order === 'asc' ? ' ▲' : ' ▼') : ''}
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {props.runs.map(run => {
              const selected = props.selected.includes(run.id);
              return (
                <tr
                  key={run.id}
                  data-run-id={run.id}
                  data-run-number={run.number}
                  data-status={run.status}
                  className={
                    'nbtrack-run-row' +
                    (selected ? ' nbtrack-selected' : '') +
                    (run.id === props.openRunId ? ' nbtrack-open' : '')
                  }
                  onClick={() => props.onOpen(run.id)}
                >
                  <td className="nbtrack-col-select" onClick={event => event.stopPropagation()}>
                    <input
                      type="checkbox"
                      aria-label={`Select run ${run.number}`}
                      checked={selected}
                      onChange={() => props.onToggle(run.id)}
                    />
                  </td>
                  {cols.map(col => (
                    <td key={col.title} className={col.className}>
                      {col.cell(run)}
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
        {props.runs.length === 0 && !props.loading ? (
          <div className="nbtrack-empty">
            No runs yet. In a notebook: <code>import nbtrack; nbtrack.init()</code> then{' '}
            <code>nbtrack.log({'{'}"loss": 0.1{'}'})</code>.
          </div>
        ) : null}
      </div>
      <div className="nbtrack-pager">
        <span className="nbtrack-count">
          {props.runs.length} of {props.total} runs
        </span>
        {props.runs.length < props.total ? (
          <button
            className="jp-mod-styled nbtrack-load-more"
            disabled={props.loading}
            onClick={props.onLoadMore}
          >
            Load more
          </button>
        ) : null}
      </div>
    </>
  );
}
