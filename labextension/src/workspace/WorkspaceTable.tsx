import * as React from 'react';

import { formatDateTime, formatDuration, formatNumber, formatTime, formatValue } from '../components/format';
import { StatusBadge } from '../components/StatusBadge';
import { IRunRecord } from '../tokens';
import { BASE_COLUMNS, ColumnId } from './layout';

export interface IWorkspaceTableProps {
  runs: IRunRecord[];
  total: number;
  loading: boolean;
  sort: string;
  order: 'asc' | 'desc';
  columns: ColumnId[];
  groupBy: string | null;
  collapsedGroups: string[];
  hidden: string[];
  colors: ReadonlyMap<string, string>;
  paramKeys: string[];
  metricKeys: string[];
  onSort: (sort: string) => void;
  onHidden: (ids: string[], hidden: boolean) => void;
  onColumns: (columns: ColumnId[]) => void;
  onGroupBy: (groupBy: string | null) => void;
  onToggleGroup: (label: string) => void;
}

interface IColumn {
  id: ColumnId;
  title: string;
  sort?: string;
  cell: (run: IRunRecord) => React.ReactNode;
}

function basename(path: string | null): string {
  return path ? (path.split('/').pop() ?? path) : '';
}

/** The column `id` draws (`params.<name>`, `metrics.<key>` or a base column). */
function columnOf(id: ColumnId): IColumn {
  if (id.startsWith('params.')) {
    const name = id.slice('params.'.length);
    return { id, title: name, sort: id, cell: run => formatValue(run.params[name]) };
  }
  if (id.startsWith('metrics.')) {
    const key = id.slice('metrics.'.length);
    return { id, title: key, sort: id, cell: run => formatNumber(run.summary[key]) };
  }
  switch (id) {
    case 'status':
      return { id, title: 'Status', sort: 'status', cell: run => <StatusBadge status={run.status} /> };
    case 'notebook':
      return {
        id,
        title: 'Notebook',
        sort: 'notebook',
        cell: run => <span title={run.notebook ?? ''}>{basename(run.notebook)}</span>
      };
    case 'started':
      return {
        id,
        title: 'Started',
        sort: 'started',
        cell: run => <span title={formatDateTime(run.started)}>{formatTime(run.started)}</span>
      };
    case 'duration':
      return { id, title: 'Duration', sort: 'duration', cell: run => formatDuration(run.duration) };
    default:
      return {
        id,
        title: 'Tags',
        cell: run => run.tags.map(tag => (
          <span key={tag} className="nbtrack-tag">
            {tag}
          </span>
        ))
      };
  }
}

/** The label of the group `run` falls in. */
export function groupOf(run: IRunRecord, groupBy: string): string {
  if (groupBy === 'tags') {
    return run.tags.length ? [...run.tags].sort().join(', ') : '(no tags)';
  }
  const name = groupBy.slice('params.'.length);
  return name in run.params ? `${name} = ${formatValue(run.params[name])}` : `(no ${name})`;
}

/** The column chooser: a popover of checkboxes, by kind. */
function ColumnChooser(props: {
  columns: ColumnId[];
  paramKeys: string[];
  metricKeys: string[];
  onColumns: (columns: ColumnId[]) => void;
}): JSX.Element {
  const toggle = (id: ColumnId) =>
    props.onColumns(
      props.columns.includes(id) ? props.columns.filter(c => c !== id) : [...props.columns, id]
    );
  const group = (title: string, items: { id: ColumnId; label: string }[]) =>
    items.length ? (
      <fieldset className="nbtrack-ws-column-group">
        <legend>{title}</legend>
        {items.map(item => (
          <label key={item.id} className="nbtrack-ws-column-option">
            <input
              type="checkbox"
              data-column={item.id}
              checked={props.columns.includes(item.id)}
              onChange={() => toggle(item.id)}
            />
            {item.label}
          </label>
        ))}
      </fieldset>
    ) : null;
  return (
    <details className="nbtrack-ws-columns">
      <summary className="jp-mod-styled">Columns</summary>
      <div className="nbtrack-ws-columns-popup">
        {group('Run', BASE_COLUMNS)}
        {group('Params', props.paramKeys.map(k => ({ id: `params.${k}`, label: k })))}
        {group('Metrics (summary)', props.metricKeys.map(k => ({ id: `metrics.${k}`, label: k })))}
      </div>
    </details>
  );
}

/** An eye button: shown runs' curves are in the charts. */
function Eye(props: { shown: boolean; label: string; onClick: () => void }): JSX.Element {
  return (
    <button
      className={'nbtrack-ws-eye' + (props.shown ? '' : ' nbtrack-ws-eye-off')}
      aria-pressed={props.shown}
      title={props.shown ? `Hide ${props.label} from the charts` : `Show ${props.label} in the charts`}
      onClick={event => {
        event.stopPropagation();
        props.onClick();
      }}
    >
      <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
        <path
          d="M12 5C6.5 5 2.7 9.2 1.5 12c1.2 2.8 5 7 10.5 7s9.3-4.2 10.5-7C21.3 9.2 17.5 5 12 5z"
          fill="none"
          stroke="currentColor"
          strokeWidth="1.8"
        />
        <circle cx="12" cy="12" r="3.2" fill={props.shown ? 'currentColor' : 'none'} stroke="currentColor" strokeWidth="1.8" />
        {props.shown ? null : <path d="M3 21 21 3" stroke="currentColor" strokeWidth="1.8" />}
      </svg>
    </button>
  );
}

/** The workspace's runs table: colour swatches, eye toggles, chosen columns, groups. */
export function WorkspaceTable(props: IWorkspaceTableProps): JSX.Element {
  const cols = props.columns.map(columnOf);
  const hidden = new Set(props.hidden);
  const header = (
    <tr>
      <th className="nbtrack-ws-col-eye">
        <Eye
          shown={props.runs.some(r => !hidden.has(r.id))}
          label="every run"
          onClick={() =>
            props.onHidden(props.runs.map(r => r.id), props.runs.some(r => !hidden.has(r.id)))
          }
        />
      </th>
      <th className="nbtrack-ws-col-swatch" />
      {[{ id: 'number', title: '#', sort: 'number' }, { id: 'name', title: 'Name', sort: 'name' }, ...cols].map(
        col => {
          const sorted = col.sort !== undefined && col.sort === props.sort;
          return (
            <th
              key={col.id}
              data-column={col.id}
              className={(col.sort ? 'nbtrack-sortable' : '') + (sorted ? ' nbtrack-sorted' : '')}
              aria-sort={sorted ? (props.order === 'asc' ? 'ascending' : 'descending') : 'none'}
              title={col.sort ? `Sort by ${col.title}` : undefined}
              onClick={col.sort ? () => props.onSort(col.sort!) : undefined}
            >
              {col.title}
              {sorted ? (props.order === 'asc' ? ' ▲' : ' ▼') : ''}
            </th>
          );
        }
      )}
    </tr>
  );
  const row = (run: IRunRecord) => {
    const shown = !hidden.has(run.id);
    return (
      <tr
        key={run.id}
        className={'nbtrack-run-row' + (shown ? '' : ' nbtrack-ws-hidden-run')}
        data-run-id={run.id}
        data-run-number={run.number}
        data-status={run.status}
      >
        <td className="nbtrack-ws-col-eye">
          <Eye shown={shown} label={`#${run.number}`} onClick={() => props.onHidden([run.id], shown)} />
        </td>
        <td className="nbtrack-ws-col-swatch">
          <span className="nbtrack-ws-swatch" style={{ background: props.colors.get(run.id) }} />
        </td>
        <td className="nbtrack-ws-col-number">{run.number}</td>
        <td className="nbtrack-ws-col-name">
          <span title={run.notes || run.name}>{run.name}</span>
        </td>
        {cols.map(col => (
          <td key={col.id} data-column={col.id}>
            {col.cell(run)}
          </td>
        ))}
      </tr>
    );
  };

  let body: React.ReactNode;
  if (props.groupBy) {
    const groups = new Map<string, IRunRecord[]>();
    for (const run of props.runs) {
      const label = groupOf(run, props.groupBy);
      groups.set(label, [...(groups.get(label) ?? []), run]);
    }
    body = [...groups.entries()].map(([label, runs]) => {
      const collapsed = props.collapsedGroups.includes(label);
      const anyShown = runs.some(r => !hidden.has(r.id));
      return (
        <tbody key={label} className="nbtrack-ws-group" data-group={label}>
          <tr className="nbtrack-ws-group-row">
            <td className="nbtrack-ws-col-eye">
              <Eye
                shown={anyShown}
                label={`group ${label}`}
                onClick={() => props.onHidden(runs.map(r => r.id), anyShown)}
              />
            </td>
            <td colSpan={3 + cols.length}>
              <button
                className="nbtrack-ws-group-toggle"
                aria-expanded={!collapsed}
                onClick={() => props.onToggleGroup(label)}
              >
                {collapsed ? '▸' : '▾'} {label}{' '}
                <span className="nbtrack-section-count">{runs.length}</span>
              </button>
            </td>
          </tr>
          {collapsed ? null : runs.map(row)}
        </tbody>
      );
    });
  } else {
    body = <tbody>{props.runs.map(row)}</tbody>;
  }

  return (
    <div className="nbtrack-ws-table-block">
      <div className="nbtrack-ws-table-tools">
        <ColumnChooser
          columns={props.columns}
          paramKeys={props.paramKeys}
          metricKeys={props.metricKeys}
          onColumns={props.onColumns}
        />
        <label className="nbtrack-ws-control">
          Group by
          <select
            className="nbtrack-ws-group-by"
            value={props.groupBy ?? ''}
            onChange={event => props.onGroupBy(event.target.value || null)}
          >
            <option value="">(none)</option>
            <option value="tags">tags</option>
            {props.paramKeys.map(k => (
              <option key={k} value={`params.${k}`}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <span className="nbtrack-spacer" />
        <span className="nbtrack-count">
          {props.runs.length < props.total
            ? `${props.runs.length} of ${props.total} runs (filter to narrow)`
            : `${props.total} runs`}
          {hidden.size ? `, ${props.runs.filter(r => hidden.has(r.id)).length} hidden` : ''}
        </span>
      </div>
      <div className="nbtrack-ws-table-scroll">
        <table className="nbtrack-runs-table nbtrack-ws-table">
          <thead>{header}</thead>
          {body}
        </table>
        {props.runs.length === 0 && !props.loading ? (
          <div className="nbtrack-empty">
            No runs here yet. In a notebook: <code>import nbtrack; nbtrack.init()</code> then{' '}
            <code>nbtrack.log({'{'}"train/loss": 0.1{'}'})</code>.
          </div>
        ) : null}
      </div>
    </div>
  );
}
