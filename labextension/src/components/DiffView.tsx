import * as React from 'react';

import { ICellDiff, IRunDiffRecord, IValueDelta } from '../tokens';
import { formatDelta, formatNumber, formatValue, runLabel } from './format';

export interface IDiffViewProps {
  diff: IRunDiffRecord | null;
  error: string | null;
  /** How many runs are selected (a diff needs two). */
  selectedCount: number;
  onCompare: () => void;
}

/** Params, metrics, code, variables and environment of two or more runs side by side. */
export function DiffView(props: IDiffViewProps): JSX.Element {
  const [showAll, setShowAll] = React.useState(false);
  const [sideBySide, setSideBySide] = React.useState(false);
  const { diff } = props;
  if (props.error) {
    return <div className="nbtrack-error">{props.error}</div>;
  }
  if (!diff) {
    return (
      <div className="nbtrack-hint">
        {props.selectedCount < 2 ? (
          'Tick two or more runs, then Compare.'
        ) : (
          <button className="jp-mod-styled jp-mod-accept" onClick={props.onCompare}>
            Compare {props.selectedCount} runs
          </button>
        )}
      </div>
    );
  }
  const runs = diff.runs;
  const first = runs[0];
  const last = runs[runs.length - 1];
  const params = showAll ? diff.params : diff.params.filter(p => !p.equal);
  const env = showAll ? diff.env : diff.env.filter(e => !e.equal);
  const changedCells = diff.cells.filter(c => !c.equal);
  const variables = diff.variables.filter(v => !v.equal);
  return (
    <div className="nbtrack-diff">
      <div className="nbtrack-diff-controls">
        <label className="nbtrack-control">
          <input
            type="checkbox"
            className="nbtrack-diff-show-all"
            checked={showAll}
            onChange={event => setShowAll(event.target.checked)}
          />{' '}
          Show unchanged
        </label>
        <label className="nbtrack-control">
          <input
            type="checkbox"
            checked={sideBySide}
            onChange={event => setSideBySide(event.target.checked)}
          />{' '}
          Side by side
        </label>
      </div>

      <Section title="Params" count={params.length} className="nbtrack-diff-params">
        <DeltaTable deltas={params} runs={runs.map(runLabel)} empty="No param differs." />
      </Section>

      <Section title="Metrics" count={diff.metrics.length} className="nbtrack-diff-metrics">
        {diff.metrics.length === 0 ? (
          <div className="nbtrack-hint">No metrics.</div>
        ) : (
          <table className="nbtrack-kv nbtrack-delta-table">
            <thead>
              <tr>
                <th>metric</th>
                {runs.map(run => (
                  <th key={run.id}>{runLabel(run)}</th>
                ))}
                <th>Δ</th>
              </tr>
            </thead>
            <tbody>
              {diff.metrics.map(metric => (
                <tr key={metric.key} data-key={metric.key}>
                  <td className="nbtrack-key">{metric.key}</td>
                  {metric.values.map((value, i) => (
                    <td key={i} className="nbtrack-num">
                      {formatNumber(value)}
                    </td>
                  ))}
                  <td
                    className={
                      'nbtrack-num' +
                      (metric.delta === null || metric.delta === 0
                        ? ''
                        : metric.delta > 0
                          ? ' nbtrack-up'
                          : ' nbtrack-down')
                    }
                  >
                    {formatDelta(metric.delta)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>

      <Section
        title={`Code (${runLabel(first)} → ${runLabel(last)})`}
        count={changedCells.length}
        className="nbtrack-diff-cells"
      >
        {changedCells.length === 0 ? (
          <div className="nbtrack-hint">
            {diff.cells.length ? `All ${diff.cells.length} cells are the same.` : 'No cells.'}
          </div>
        ) : (
          <>
            {diff.cells.length > changedCells.length ? (
              <div className="nbtrack-hint">
                {diff.cells.length - changedCells.length} unchanged cells hidden.
              </div>
            ) : null}
            {changedCells.map(cell =>
              sideBySide ? (
                <SideBySide key={cell.index} cell={cell} />
              ) : (
                <UnifiedDiff key={cell.index} cell={cell} />
              )
            )}
          </>
        )}
      </Section>

      <Section title="Variables" count={variables.length} className="nbtrack-diff-variables">
        {variables.length === 0 ? (
          <div className="nbtrack-hint">No variable differs.</div>
        ) : (
          <table className="nbtrack-kv">
            <thead>
              <tr>
                <th>name</th>
                <th>{runLabel(first)}</th>
                <th>{runLabel(last)}</th>
              </tr>
            </thead>
            <tbody>
              {variables.map(v => (
                <tr key={v.name}>
                  <td className="nbtrack-key">{v.name}</td>
                  <td className="nbtrack-repr">{v.a ?? '(none)'}</td>
                  <td className="nbtrack-repr">{v.b ?? '(none)'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>

      <Section title="Environment" count={env.length} className="nbtrack-diff-env" closed>
        <DeltaTable deltas={env} runs={runs.map(runLabel)} empty="Same environment." />
      </Section>
    </div>
  );
}

function Section(props: {
  title: string;
  count: number;
  className: string;
  closed?: boolean;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <details className={`nbtrack-section ${props.className}`} open={!props.closed}>
      <summary>
        {props.title} <span className="nbtrack-section-count">{props.count}</span>
      </summary>
      {props.children}
    </details>
  );
}

function DeltaTable(props: { deltas: IValueDelta[]; runs: string[]; empty: string }) {
  if (props.deltas.length === 0) {
    return <div className="nbtrack-hint">{props.empty}</div>;
  }
  return (
    <table className="nbtrack-kv nbtrack-delta-table">
      <thead>
        <tr>
          <th>key</th>
          {props.runs.map((run, i) => (
            <th key={i}>{run}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.deltas.map(delta => (
          <tr
            key={delta.key}
            data-key={delta.key}
            className={delta.equal ? 'nbtrack-equal' : 'nbtrack-changed'}
          >
            <td className="nbtrack-key">{delta.key}</td>
            {delta.values.map((value, i) => (
              <td key={i} className="nbtrack-value">
                {formatValue(value)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function lineClass(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---')) {
    return 'nbtrack-diff-file';
  }
  if (line.startsWith('@@')) {
    return 'nbtrack-diff-hunk';
  }
  if (line.startsWith('+')) {
    return 'nbtrack-diff-add';
  }
  if (line.startsWith('-')) {
    return 'nbtrack-diff-del';
  }
  return 'nbtrack-diff-ctx';
}

function cellTitle(cell: ICellDiff): string {
  if (cell.a_source === null) {
    return `cell ${cell.index + 1}: added`;
  }
  if (cell.b_source === null) {
    return `cell ${cell.index + 1}: removed`;
  }
  return `cell ${cell.index + 1}: changed`;
}

function UnifiedDiff(props: { cell: ICellDiff }): JSX.Element {
  const lines = props.cell.diff.replace(/\n$/, '').split('\n');
  return (
    <div className="nbtrack-cell-diff" data-cell-index={props.cell.index}>
      <div className="nbtrack-cell-title">{cellTitle(props.cell)}</div>
      <pre className="nbtrack-code nbtrack-unified">
        {lines.map((line, i) => (
          <div key={i} className={lineClass(line)}>
            {line || ' '}
          </div>
        ))}
      </pre>
    </div>
  );
}

type Row = { left: string | null; right: string | null; kind: 'ctx' | 'change' };

/** Rows of a side-by-side view, read from the unified diff's hunks. */
function sideBySideRows(diff: string): Row[] {
  const rows: Row[] = [];
  let removed: string[] = [];
  let added: string[] = [];
  const flush = () => {
    for (let i = 0; i < Math.max(removed.length, added.length); i++) {
      rows.push({ left: removed[i] ?? null, right: added[i] ?? null, kind: 'change' });
    }
    removed = [];
    added = [];
  };
  for (const line of diff.replace(/\n$/, '').split('\n')) {
    if (line.startsWith('---') || line.startsWith('+++')) {
      continue;
    }
    if (line.startsWith('@@')) {
      flush();
      if (rows.length) {
        rows.push({ left: '⋯', right: '⋯', kind: 'ctx' });
      }
    } else if (line.startsWith('-')) {
      removed.push(line.slice(1));
    } else if (line.startsWith('+')) {
      added.push(line.slice(1));
    } else {
      flush();
      rows.push({ left: line.slice(1), right: line.slice(1), kind: 'ctx' });
    }
  }
  flush();
  return rows;
}

function SideBySide(props: { cell: ICellDiff }): JSX.Element {
  const rows = sideBySideRows(props.cell.diff);
  return (
    <div className="nbtrack-cell-diff nbtrack-side-by-side" data-cell-index={props.cell.index}>
      <div className="nbtrack-cell-title">{cellTitle(props.cell)}</div>
      <table className="nbtrack-code nbtrack-sbs-table">
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              <td
                className={
                  row.kind === 'change' && row.left !== null ? 'nbtrack-diff-del' : 'nbtrack-diff-ctx'
                }
              >
                {row.left ?? ''}
              </td>
              <td
                className={
                  row.kind === 'change' && row.right !== null
                    ? 'nbtrack-diff-add'
                    : 'nbtrack-diff-ctx'
                }
              >
                {row.right ?? ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
