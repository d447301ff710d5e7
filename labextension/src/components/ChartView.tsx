import * as React from 'react';

import { VegaChart } from './VegaChart';

export interface IChartViewProps {
  spec: { [key: string]: unknown } | null;
  error: string | null;
  loading: boolean;
  selectedCount: number;
  metricKeys: string[];
  metric: string | null;
  logScale: boolean;
  smoothing: number;
  onMetric: (metric: string) => void;
  onLogScale: (log: boolean) => void;
  onSmoothing: (smoothing: number) => void;
}

/** Curves of the selected runs for one metric, with log scale and smoothing. */
export function ChartView(props: IChartViewProps): JSX.Element {
  return (
    <div className="nbtrack-chart">
      <div className="nbtrack-chart-controls">
        <label className="nbtrack-control">
          Metric{' '}
          <select
            className="nbtrack-metric-picker"
            value={props.metric ?? ''}
            onChange={event => props.onMetric(event.target.value)}
          >
            {props.metricKeys.length === 0 ? <option value="">(none yet)</option> : null}
            {props.metricKeys.map(key => (
              <option key={key} value={key}>
                {key}
              </option>
            ))}
          </select>
        </label>
        <label className="nbtrack-control">
          <input
            type="checkbox"
            className="nbtrack-log-scale"
            checked={props.logScale}
            onChange={event => props.onLogScale(event.target.checked)}
          />{' '}
          Log scale
        </label>
        <label className="nbtrack-control nbtrack-smoothing">
          Smoothing{' '}
          <input
            type="range"
            min={0}
            max={0.99}
            step={0.01}
            value={props.smoothing}
            onChange={event => props.onSmoothing(Number(event.target.value))}
          />
          <span className="nbtrack-smoothing-value">{props.smoothing.toFixed(2)}</span>
        </label>
      </div>
      {props.error ? <div className="nbtrack-error">{props.error}</div> : null}
      {props.selectedCount === 0 ? (
        <div className="nbtrack-hint">Tick runs in the table to plot their curves.</div>
      ) : props.spec ? (
        <VegaChart spec={props.spec} />
      ) : props.loading ? (
        <div className="nbtrack-hint">Loading…</div>
      ) : null}
    </div>
  );
}
