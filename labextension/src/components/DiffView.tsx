import * as React from 'react';

import { ICellDiff, IRunDiffRecord, IValueDelta } from '../tokens';
import { formatDelta, formatNumber, formatValue, runLabel } from './format';
import { Section } from './Section';

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

/** The most cells (lines x lines) the side-by-side alignment works through. */
const MAX_ALIGN = 4_000_000;

/**
 * Rows of a side-by-side view: the two sources aligned line by line (longest common
 * subsequence); removed and added lines in between pair up as changes.
 */
function sideBySideRows(aSource: string | null, bSource: string | null): Row[] {
  const a = aSource ? aSource.replace(/\n$/, '').split('\n') : [];
  const b = bSource ? bSource.replace(/\n$/, '').split('\n') : [];
  const n = a.length;
  const m = b.length;
  const rows: Row[] = [];
  if (n * m > MAX_ALIGN) {
    for (let i = 0; i < Math.max(n, m); i++) {
      rows.push({ left: a[i] ?? null, right: b[i] ?? null, kind: 'change' });
    }
    return rows;
  }
  // common[i][j]: length of the LCS of a[i:] and b[j:]
  const common = new Uint32Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => i * (m + 1) + j;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      common[at(i, j)] =
        a[i] === b[j]
          ? common[at(i + 1, j + 1)] + 1
          : Math.max(common[at(i + 1, j)], common[at(i, j + 1)]);
    }
  }
  let removed: string[] = [];
  let added: string[] = [];
  const flush = () => {
    for (let k = 0; k < Math.max(removed.length, added.length); k++) {
      rows.push({ left: removed[k] ?? null, right: added[k] ?? null, kind: 'change' });
    }
    removed = [];
    added = [];
  };
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      flush();
      rows.push({ left: a[i], right: b[j], kind: 'ctx' });
      i++;
      j++;
    } else if (j >= m || (i < n && common[at(i + 1, j)] >= common[at(i, j + 1)])) {
      removed.push(a[i++]);
    } else {
      added.push(b[j++]);
    }
  }
  flush();
  return rows;
}

function SideBySide(props: { cell: ICellDiff }): JSX.Element {
  const rows = sideBySideRows(props.cell.a_source, props.cell.b_source);
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
