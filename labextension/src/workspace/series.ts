/**
 * Points of one run's metric as the workspace holds them, and the per-panel transforms: the x
 * axis (step, wall time, time since the run's first point), EMA smoothing and the log scale.
 */
import { IMetricSeries } from '../tokens';
import type { XAxis } from './layout';

/** One run's points of one key, in step order. */
export interface ISeriesData {
  step: number[];
  value: (number | null)[];
  time: number[];
  /** Whether the server dropped points (a long series reduced for drawing). */
  downsampled: boolean;
}

/** A curve ready to draw: x and y of the same length, y null where there is a gap. */
export interface ICurve {
  id: string;
  label: string;
  color: string;
  x: number[];
  y: (number | null)[];
}

export function fromWire(series: IMetricSeries): ISeriesData {
  return {
    step: series.step,
    value: series.value,
    time: series.time,
    downsampled: series.downsampled
  };
}

/** `data` with the points of `more` after its last step appended (a live run's new points). */
export function appended(data: ISeriesData, more: IMetricSeries): ISeriesData {
  const last = data.step.length ? data.step[data.step.length - 1] : -Infinity;
  let from = 0;
  while (from < more.step.length && more.step[from] <= last) {
    from++;
  }
  if (from >= more.step.length) {
    return data;
  }
  return {
    step: data.step.concat(more.step.slice(from)),
    value: data.value.concat(more.value.slice(from)),
    time: data.time.concat(more.time.slice(from)),
    downsampled: data.downsampled || more.downsampled
  };
}

/**
 * Exponential moving average, debiased as TensorBoard's is (the first points are not pulled
 * toward zero); null and non-finite values are gaps and do not move the average.
 */
export function smoothed(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) {
    return values;
  }
  let last = 0;
  let count = 0;
  return values.map(v => {
    if (v === null || !isFinite(v)) {
      return null;
    }
    last = last * weight + (1 - weight) * v;
    count++;
    return last / (1 - Math.pow(weight, count));
  });
}

/** The x values of `data` on the chosen axis. */
export function xValues(data: ISeriesData, axis: XAxis): number[] {
  if (axis === 'step') {
    return data.step;
  }
  if (axis === 'wall') {
    return data.time;
  }
  const start = data.time.length ? data.time[0] : 0;
  return data.time.map(t => t - start);
}

/** The curve of one run in one panel: x axis, smoothing, and (log) non-positive y as gaps. */
export function curveOf(
  run: { id: string; label: string; color: string },
  data: ISeriesData,
  settings: { x: XAxis; smoothing: number; log: boolean }
): ICurve {
  let y = smoothed(data.value, settings.smoothing);
  if (settings.log) {
    y = y.map(v => (v !== null && v > 0 ? v : null));
  }
  return { ...run, x: xValues(data, settings.x), y };
}
