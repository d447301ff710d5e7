/**
 * The parallel-coordinates layout of a sweep: one vertical axis per searched param (in the
 * space's order), then one for the objective value; one polyline per finished trial through
 * its values, colored by value from worse (blue) to better (orange). Pure functions: the SVG is
 * drawn by ParallelCoordinates.tsx.
 */
import { formatNumber } from '../../components/format';
import { ISweepDetail, ISweepTrialRecord, ParamValue } from '../../tokens';

export const PC_HEIGHT = 280;
/** Room above the axes (names) and below them (ticks are beside the axes). */
export const PC_TOP = 34;
export const PC_BOTTOM = 18;
export const PC_SIDE = 70;
/** Right of the value axis: its tick labels. */
export const PC_RIGHT = 90;
export const PC_SPACING = 150;

export type AxisKind = 'linear' | 'log' | 'category';

export interface IAxis {
  /** The param name, or the metric for the value axis. */
  name: string;
  kind: AxisKind;
  /** Whether this is the objective's axis. */
  value: boolean;
  x: number;
  /** Numeric axes: [low, high] (log axes: of log10). */
  domain: [number, number];
  /** Category axes: the values' labels, bottom to top. */
  categories: string[];
  ticks: { y: number; label: string }[];
}

export interface ILine {
  trial: ISweepTrialRecord;
  /** SVG path data through the axes (a gap where a trial lacks a param). */
  path: string;
  color: string;
  best: boolean;
}

export interface IParallelLayout {
  width: number;
  height: number;
  axes: IAxis[];
  lines: ILine[];
  /** The value range, worse to better, for the legend. */
  worse: number | null;
  better: number | null;
}

/** A category's label: strings as they are, anything else as JSON. */
export function categoryLabel(value: ParamValue | undefined): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? null);
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && isFinite(value);
}

const BETTER = [232, 89, 12]; // orange
const MIDDLE = [174, 62, 201]; // purple
const WORSE = [76, 110, 245]; // blue

/** The color of `t` in [0, 1], 0 worse, 1 better. */
export function valueColor(t: number): string {
  const u = Math.max(0, Math.min(1, isFinite(t) ? t : 0));
  const [a, b, f] = u < 0.5 ? [WORSE, MIDDLE, u * 2] : [MIDDLE, BETTER, (u - 0.5) * 2];
  const mix = a.map((c, i) => Math.round(c + (b[i] - c) * f));
  return `rgb(${mix[0]}, ${mix[1]}, ${mix[2]})`;
}

function numericDomain(values: number[], low: number | null, high: number | null): [number, number] {
  let lo = Math.min(...values, ...(low === null ? [] : [low]));
  let hi = Math.max(...values, ...(high === null ? [] : [high]));
  if (!isFinite(lo) || !isFinite(hi)) {
    return [0, 1];
  }
  if (lo === hi) {
    const pad = Math.abs(lo) / 2 || 0.5;
    lo -= pad;
    hi += pad;
  }
  return [lo, hi];
}

function axisY(fraction: number): number {
  return PC_TOP + (1 - fraction) * (PC_HEIGHT - PC_TOP - PC_BOTTOM);
}

/** Where `value` sits on `axis`, 0 (bottom) to 1 (top); null when it cannot be placed. */
export function position(axis: IAxis, value: ParamValue | undefined): number | null {
  if (axis.kind === 'category') {
    const i = axis.categories.indexOf(categoryLabel(value));
    if (i < 0) {
      return null;
    }
    return axis.categories.length === 1 ? 0.5 : i / (axis.categories.length - 1);
  }
  if (!isNumber(value) || (axis.kind === 'log' && value <= 0)) {
    return null;
  }
  const v = axis.kind === 'log' ? Math.log10(value) : value;
  const [lo, hi] = axis.domain;
  return (v - lo) / (hi - lo);
}

function numericAxis(
  name: string,
  values: number[],
  low: number | null,
  high: number | null,
  log: boolean,
  isValue: boolean
): IAxis {
  const useLog = log && values.every(v => v > 0) && (low === null || low > 0);
  const shown = useLog ? values.map(Math.log10) : values;
  const domain = numericDomain(
    shown,
    low === null ? null : useLog ? Math.log10(low) : low,
    high === null ? null : useLog ? Math.log10(high) : high
  );
  const ticks = [0, 0.5, 1].map(f => {
    const v = domain[0] + (domain[1] - domain[0]) * f;
    return { y: axisY(f), label: formatNumber(useLog ? Math.pow(10, v) : v) };
  });
  return {
    name,
    kind: useLog ? 'log' : 'linear',
    value: isValue,
    x: 0,
    domain,
    categories: [],
    ticks
  };
}

function categoryAxis(name: string, categories: string[]): IAxis {
  const axis: IAxis = {
    name,
    kind: 'category',
    value: false,
    x: 0,
    domain: [0, 1],
    categories,
    ticks: []
  };
  axis.ticks = categories.map(label => ({ y: axisY(position(axis, label) ?? 0), label }));
  return axis;
}

/** The trials drawn: finished ones with a value. */
export function drawnTrials(detail: ISweepDetail): ISweepTrialRecord[] {
  return detail.trials.filter(t => t.status === 'finished' && isNumber(t.value));
}

/** Lay out `detail`'s finished trials on parallel axes. */
export function layoutParallel(detail: ISweepDetail): IParallelLayout {
  const trials = drawnTrials(detail);
  const searched = detail.space.filter(p => p.type !== 'constant');
  const names = searched.map(p => p.name);
  for (const t of detail.trials) {
    for (const name of Object.keys(t.params)) {
      if (!names.includes(name)) {
        names.push(name); // a param the space does not declare (a changed space)
      }
    }
  }
  const axes: IAxis[] = names.map(name => {
    const param = searched.find(p => p.name === name);
    const seen = trials.map(t => t.params[name]).filter(v => v !== undefined);
    const numeric = param
      ? param.type !== 'choice'
      : seen.length > 0 && seen.every(isNumber);
    if (numeric) {
      return numericAxis(
        name,
        seen.filter(isNumber),
        param?.low ?? null,
        param?.high ?? null,
        param?.log ?? false,
        false
      );
    }
    const categories = (param?.values ?? []).map(categoryLabel);
    for (const v of seen) {
      const label = categoryLabel(v);
      if (!categories.includes(label)) {
        categories.push(label);
      }
    }
    return categoryAxis(name, categories);
  });
  const values = trials.map(t => t.value as number);
  axes.push(numericAxis(detail.metric, values, null, null, false, true));
  axes.forEach((axis, i) => (axis.x = PC_SIDE + i * PC_SPACING));
  const width = PC_SIDE + PC_RIGHT + Math.max(1, axes.length - 1) * PC_SPACING;

  const maximize = detail.goal === 'maximize';
  const lo = values.length ? Math.min(...values) : 0;
  const hi = values.length ? Math.max(...values) : 0;
  const lines = trials.map(trial => {
    let path = '';
    let pen = false;
    axes.forEach(axis => {
      const f = position(axis, axis.value ? trial.value! : trial.params[axis.name]);
      if (f === null) {
        pen = false;
        return;
      }
      path += `${pen ? 'L' : 'M'}${axis.x.toFixed(1)},${axisY(f).toFixed(1)}`;
      pen = true;
    });
    const t = hi === lo ? 1 : (trial.value! - lo) / (hi - lo);
    return {
      trial,
      path,
      color: valueColor(maximize ? t : 1 - t),
      best: detail.best?.number === trial.number
    };
  });
  // The best is drawn last, on top of the others.
  lines.sort((a, b) => Number(a.best) - Number(b.best));
  return {
    width,
    height: PC_HEIGHT,
    axes,
    lines,
    worse: values.length ? (maximize ? lo : hi) : null,
    better: values.length ? (maximize ? hi : lo) : null
  };
}
