import * as React from 'react';

import { formatDateTime, formatDuration, formatNumber, formatTime } from '../../components/format';
import { ISweepDetail, ISweepTrialRecord, ParamValue } from '../../tokens';
import { configCode, copyText } from './code';
import { ParallelCoordinates } from './ParallelCoordinates';
import { categoryLabel } from './parallel';
import { ISweepsState } from './store';

export interface ISweepsViewProps {
  state: ISweepsState;
  onSelect: (name: string) => void;
  /** Show a run (absent: runs are not links). */
  onOpenRun?: (runId: string) => void;
}

/** `minimize val/loss` as `val/loss ↓`. */
function target(metric: string | null, goal: string | null): string {
  if (!metric) {
    return '—';
  }
  return `${metric} ${goal === 'maximize' ? '↑' : '↓'}`;
}

function paramText(value: ParamValue | undefined): string {
  if (value === undefined) {
    return '—';
  }
  return typeof value === 'number' ? formatNumber(value) : categoryLabel(value);
}

/** A trial's status as the runs' colored pill (`pruned`, `waiting` too). */
function TrialStatusBadge(props: { status: string }): JSX.Element {
  return (
    <span className={`nbtrack-status nbtrack-status-${props.status}`} title={props.status}>
      {props.status}
    </span>
  );
}

/**
 * The Sweeps view: every sweep (target, trials by status, best value, storage); the selected
 * one's parallel coordinates, param importances, best config (with "Copy as code") and trials.
 */
export function SweepsView(props: ISweepsViewProps): JSX.Element {
  const { state } = props;
  if (state.sweepsError) {
    return <div className="nbtrack-error nbtrack-sweeps-error">{state.sweepsError}</div>;
  }
  if (!state.sweepsLoaded) {
    return <div className="nbtrack-hint">Loading…</div>;
  }
  if (state.sweeps.length === 0) {
    return (
      <div className="nbtrack-hint nbtrack-sweeps-empty">
        No sweeps yet: nbtrack.sweep(objective, space, n_trials=...) or %%track sweep in a cell.
      </div>
    );
  }
  return (
    <div className="nbtrack-artifacts nbtrack-sweeps">
      <div className="nbtrack-ws-table-block">
        <div className="nbtrack-ws-table-scroll">
          <table className="nbtrack-runs-table nbtrack-ws-table nbtrack-sweeps-table">
            <thead>
              <tr>
                <th>name</th>
                <th>target</th>
                <th>trials</th>
                <th>status</th>
                <th>best</th>
                <th>updated</th>
                <th>storage</th>
              </tr>
            </thead>
            <tbody>
              {state.sweeps.map(s => (
                <tr
                  key={s.name}
                  className={
                    'nbtrack-run-row nbtrack-sweep-row' +
                    (s.name === state.selected ? ' nbtrack-selected' : '')
                  }
                  data-sweep={s.name}
                  onClick={() => props.onSelect(s.name)}
                >
                  <td className="nbtrack-artifact-name">{s.name}</td>
                  <td>{target(s.metric, s.goal)}</td>
                  <td>{s.error ? '?' : s.trials}</td>
                  <td className="nbtrack-sweep-counts">
                    {s.error ? (
                      <span className="nbtrack-error-text" title={s.error}>
                        unreadable
                      </span>
                    ) : (
                      Object.entries(s.counts)
                        .sort()
                        .map(([status, n]) => (
                          <span key={status} className="nbtrack-sweep-count">
                            {n} <TrialStatusBadge status={status} />
                          </span>
                        ))
                    )}
                  </td>
                  <td>{formatNumber(s.best_value)}</td>
                  <td title={formatDateTime(s.updated)}>{formatTime(s.updated)}</td>
                  <td className="nbtrack-sweep-storage" title={s.storage}>
                    {s.storage}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      {state.selected ? (
        state.detail ? (
          <SweepDetail detail={state.detail} onOpenRun={props.onOpenRun} />
        ) : state.detailError ? (
          <div className="nbtrack-error">{state.detailError}</div>
        ) : (
          <div className="nbtrack-hint">Loading…</div>
        )
      ) : (
        <div className="nbtrack-hint">Select a sweep to see its trials.</div>
      )}
    </div>
  );
}

function SweepDetail(props: {
  detail: ISweepDetail;
  onOpenRun?: (runId: string) => void;
}): JSX.Element {
  const { detail, onOpenRun } = props;
  const size = detail.n_trials !== null ? ` of ${detail.n_trials}` : '';
  return (
    <div className="nbtrack-sweep-detail" data-sweep={detail.name}>
      <div className="nbtrack-artifact-heading">
        <span className="nbtrack-run-title">{detail.name}</span>
        <span className="nbtrack-tag">{detail.goal === 'maximize' ? 'maximize' : 'minimize'}</span>
        <span>{detail.metric}</span>
        {detail.method ? <span className="nbtrack-tag">{detail.method}</span> : null}
        <span className="nbtrack-hint">
          {detail.trials.length} trial{detail.trials.length === 1 ? '' : 's'}
          {size}
        </span>
      </div>
      <div className="nbtrack-sweep-columns">
        <div className="nbtrack-sweep-chart">
          <div className="nbtrack-ws-section-name">Parallel coordinates</div>
          <ParallelCoordinates detail={detail} onOpenRun={onOpenRun} />
        </div>
        <div className="nbtrack-sweep-side">
          <div className="nbtrack-ws-section-name">Param importance</div>
          <Importances detail={detail} />
          <div className="nbtrack-ws-section-name">Best config</div>
          <BestConfig detail={detail} onOpenRun={onOpenRun} />
        </div>
      </div>
      <div className="nbtrack-ws-section-name">Trials</div>
      <TrialsTable detail={detail} onOpenRun={onOpenRun} />
    </div>
  );
}

/** Horizontal bars, most important first. */
function Importances(props: { detail: ISweepDetail }): JSX.Element {
  const importances = props.detail.importances;
  if (!importances) {
    return (
      <div className="nbtrack-hint nbtrack-importance-empty">
        Needs at least two finished trials with different params.
      </div>
    );
  }
  const entries = Object.entries(importances).sort((a, b) => b[1] - a[1]);
  const top = Math.max(...entries.map(([, v]) => v), 1e-12);
  return (
    <div className="nbtrack-importances">
      {entries.map(([name, value]) => (
        <div key={name} className="nbtrack-importance" data-param={name}>
          <span className="nbtrack-importance-name" title={name}>
            {name}
          </span>
          <span className="nbtrack-importance-track">
            <span
              className="nbtrack-importance-bar"
              style={{ width: `${Math.max(1, (value / top) * 100)}%` }}
            />
          </span>
          <span className="nbtrack-importance-value">{value.toFixed(2)}</span>
        </div>
      ))}
    </div>
  );
}

/** The best trial's config as Python, shown as text, with a copy button. */
function BestConfig(props: {
  detail: ISweepDetail;
  onOpenRun?: (runId: string) => void;
}): JSX.Element {
  const { detail, onOpenRun } = props;
  const [copied, setCopied] = React.useState(false);
  const best = detail.best;
  const code = React.useMemo(
    () => (best ? configCode(best.config, detail.space) : ''),
    [best, detail.space]
  );
  if (!best) {
    return <div className="nbtrack-hint">No finished trial yet.</div>;
  }
  const onCopy = async () => {
    await copyText(code);
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <div className="nbtrack-best-config" data-trial={best.number}>
      <div className="nbtrack-best-line">
        <span>
          {detail.metric} = <strong>{formatNumber(best.value)}</strong> in trial {best.number}
        </span>
        {best.run_id && onOpenRun ? (
          <button
            className="nbtrack-link nbtrack-run-link"
            title="Show this run"
            data-run-id={best.run_id}
            onClick={() => onOpenRun(best.run_id!)}
          >
            run #{best.run_number}
          </button>
        ) : null}
        <span className="nbtrack-spacer" />
        <button
          className="jp-mod-styled nbtrack-copy-config"
          title="Copy the config as Python code"
          onClick={() => void onCopy()}
        >
          {copied ? 'Copied' : 'Copy as code'}
        </button>
      </div>
      <pre className="nbtrack-config-code">{code}</pre>
    </div>
  );
}

/** Every trial: number, status, value, params, duration, its run. */
function TrialsTable(props: {
  detail: ISweepDetail;
  onOpenRun?: (runId: string) => void;
}): JSX.Element {
  const { detail, onOpenRun } = props;
  const params = React.useMemo(() => {
    const names = detail.space.filter(p => p.type !== 'constant').map(p => p.name);
    for (const t of detail.trials) {
      for (const name of Object.keys(t.params)) {
        if (!names.includes(name)) {
          names.push(name);
        }
      }
    }
    return names;
  }, [detail]);
  const run = (t: ISweepTrialRecord) =>
    t.run_number === null ? (
      '—'
    ) : onOpenRun && t.run_id ? (
      <button
        className="nbtrack-link nbtrack-run-link"
        title="Show this run"
        data-run-id={t.run_id}
        onClick={() => onOpenRun(t.run_id!)}
      >
        #{t.run_number}
      </button>
    ) : (
      `#${t.run_number}`
    );
  return (
    <div className="nbtrack-ws-table-scroll nbtrack-trials-scroll">
      <table className="nbtrack-runs-table nbtrack-ws-table nbtrack-trials-table">
        <thead>
          <tr>
            <th>trial</th>
            <th>status</th>
            <th>{detail.metric}</th>
            {params.map(name => (
              <th key={name} data-param={name}>
                {name}
              </th>
            ))}
            <th>duration</th>
            <th>run</th>
          </tr>
        </thead>
        <tbody>
          {detail.trials.map(t => (
            <tr
              key={t.number}
              className={
                'nbtrack-trial-row' + (detail.best?.number === t.number ? ' nbtrack-best-trial' : '')
              }
              data-trial={t.number}
            >
              <td>{t.number}</td>
              <td>
                <TrialStatusBadge status={t.status} />
              </td>
              <td className="nbtrack-trial-value">{formatNumber(t.value)}</td>
              {params.map(name => (
                <td key={name}>{paramText(t.params[name])}</td>
              ))}
              <td>{formatDuration(t.duration)}</td>
              <td>{run(t)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
