/**
 * Histograms of one run at a time (a run picker): the chosen step's bins as bars, and every
 * step as a heatmap (steps across, values up, colour = count), both on canvases. The values
 * over steps come from one `all=1` request per 1,000 steps (the last HISTORY_ITEMS at most).
 */
import * as React from 'react';

import { IMediaRecord } from '../../tokens';
import { IMediaViewProps, RunLabel, StepSlider } from './parts';
import { HISTORY_ITEMS } from './store';

const BARS_HEIGHT = 140;
const HEAT_HEIGHT = 150;
/** Rows of the heatmap's common value grid (bins differ from step to step). */
const HEAT_ROWS = 60;
const MARGIN = { left: 56, right: 8, top: 6, bottom: 18 };

interface IHistogramSeries {
  steps: number[];
  counts: number[][];
  edges: number[][];
}

/** One histogram per step (the first value of a step, when several were logged at once). */
export function seriesOf(items: readonly IMediaRecord[]): IHistogramSeries {
  const out: IHistogramSeries = { steps: [], counts: [], edges: [] };
  for (const item of items) {
    const counts = item.meta.counts;
    const edges = item.meta.edges;
    if (out.steps[out.steps.length - 1] === item.step) {
      continue;
    }
    if (Array.isArray(counts) && Array.isArray(edges) && edges.length === counts.length + 1) {
      out.steps.push(item.step);
      out.counts.push(counts.map(Number));
      out.edges.push(edges.map(Number));
    }
  }
  return out;
}

function short(value: number): string {
  if (!isFinite(value)) {
    return String(value);
  }
  const abs = Math.abs(value);
  return abs !== 0 && (abs >= 1e5 || abs < 1e-3)
    ? value.toExponential(2)
    : String(Number(value.toPrecision(3)));
}

interface IColors {
  text: string;
  grid: string;
  font: string;
}

function themeColors(element: HTMLElement): IColors {
  const style = getComputedStyle(element);
  return {
    text: style.getPropertyValue('--jp-ui-font-color1').trim() || '#333',
    grid: style.getPropertyValue('--jp-border-color2').trim() || '#ccc',
    font: `10px ${style.fontFamily || 'sans-serif'}`
  };
}

/** A canvas as wide as its box, drawn again by `draw` when it or its width changes. */
function Canvas(props: {
  height: number;
  draw: (ctx: CanvasRenderingContext2D, width: number, colors: IColors) => void;
  deps: React.DependencyList;
  className: string;
  label: string;
  data?: { [name: string]: string | number };
}): JSX.Element {
  const canvas = React.useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = React.useState(0);
  React.useEffect(() => {
    const node = canvas.current?.parentElement;
    if (!node) {
      return;
    }
    setWidth(node.clientWidth);
    if (typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(() => setWidth(node.clientWidth));
    observer.observe(node);
    return () => observer.disconnect();
  }, []);
  React.useEffect(() => {
    const node = canvas.current;
    const ctx = node?.getContext('2d');
    if (!node || !ctx || width <= 0) {
      return;
    }
    const ratio = window.devicePixelRatio || 1;
    node.width = Math.round(width * ratio);
    node.height = Math.round(props.height * ratio);
    node.style.width = `${width}px`;
    node.style.height = `${props.height}px`;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, props.height);
    const colors = themeColors(node);
    ctx.font = colors.font;
    props.draw(ctx, width, colors);
  }, [width, props.height, ...props.deps]);
  const data = Object.fromEntries(
    Object.entries(props.data ?? {}).map(([name, value]) => [`data-${name}`, value])
  );
  return (
    <div className={props.className} {...data}>
      <canvas ref={canvas} role="img" aria-label={props.label} />
    </div>
  );
}

function drawBars(
  ctx: CanvasRenderingContext2D,
  width: number,
  colors: IColors,
  counts: number[],
  edges: number[],
  color: string
): void {
  const h = BARS_HEIGHT;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = h - MARGIN.top - MARGIN.bottom;
  const lo = edges[0];
  const hi = edges[edges.length - 1];
  const top = Math.max(1, ...counts);
  const x = (v: number) => MARGIN.left + (hi > lo ? ((v - lo) / (hi - lo)) * plotW : plotW / 2);
  ctx.fillStyle = color;
  counts.forEach((count, i) => {
    const x0 = x(edges[i]);
    const x1 = x(edges[i + 1]);
    const bar = (count / top) * plotH;
    ctx.fillRect(x0, MARGIN.top + plotH - bar, Math.max(1, x1 - x0 - 0.5), bar);
  });
  ctx.strokeStyle = colors.grid;
  ctx.beginPath();
  ctx.moveTo(MARGIN.left, MARGIN.top + plotH + 0.5);
  ctx.lineTo(MARGIN.left + plotW, MARGIN.top + plotH + 0.5);
  ctx.stroke();
  ctx.fillStyle = colors.text;
  ctx.textBaseline = 'top';
  ctx.textAlign = 'right';
  ctx.fillText(short(top), MARGIN.left - 4, MARGIN.top);
  ctx.fillText('0', MARGIN.left - 4, MARGIN.top + plotH - 8);
  ctx.textAlign = 'left';
  ctx.fillText(short(lo), MARGIN.left, MARGIN.top + plotH + 4);
  ctx.textAlign = 'right';
  ctx.fillText(short(hi), MARGIN.left + plotW, MARGIN.top + plotH + 4);
}

/** Each step's counts spread over a common value grid of HEAT_ROWS rows, by overlap. */
function gridOf(series: IHistogramSeries): { rows: Float64Array[]; lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const edges of series.edges) {
    lo = Math.min(lo, edges[0]);
    hi = Math.max(hi, edges[edges.length - 1]);
  }
  if (!(hi > lo)) {
    hi = lo + 1;
  }
  const scale = HEAT_ROWS / (hi - lo);
  const rows = series.counts.map((counts, s) => {
    const edges = series.edges[s];
    const column = new Float64Array(HEAT_ROWS);
    counts.forEach((count, i) => {
      const r0 = (edges[i] - lo) * scale;
      const r1 = (edges[i + 1] - lo) * scale;
      const span = r1 - r0;
      if (!(count > 0) || !(span >= 0)) {
        return;
      }
      if (span === 0) {
        column[Math.min(HEAT_ROWS - 1, Math.floor(r0))] += count;
        return;
      }
      for (let r = Math.floor(r0); r < Math.min(HEAT_ROWS, Math.ceil(r1)); r++) {
        const overlap = Math.min(r + 1, r1) - Math.max(r, r0);
        if (overlap > 0) {
          column[r] += (count * overlap) / span;
        }
      }
    });
    return column;
  });
  return { rows, lo, hi };
}

function drawHeatmap(
  ctx: CanvasRenderingContext2D,
  width: number,
  colors: IColors,
  series: IHistogramSeries,
  marked: number,
  color: string
): void {
  const h = HEAT_HEIGHT;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = h - MARGIN.top - MARGIN.bottom;
  const { rows, lo, hi } = gridOf(series);
  const n = rows.length;
  const cellW = plotW / Math.max(1, n);
  const cellH = plotH / HEAT_ROWS;
  ctx.fillStyle = color;
  rows.forEach((column, s) => {
    // Each step scaled to its largest row: the shape stays visible as counts change.
    const top = Math.max(...column);
    if (!(top > 0)) {
      return;
    }
    const x0 = MARGIN.left + s * cellW;
    column.forEach((count, r) => {
      if (count > 0) {
        ctx.globalAlpha = Math.min(1, 0.08 + 0.92 * Math.sqrt(count / top));
        const y = MARGIN.top + plotH - (r + 1) * cellH;
        ctx.fillRect(x0, y, Math.max(1, cellW + 0.3), cellH + 0.3);
      }
    });
  });
  ctx.globalAlpha = 1;
  if (marked >= 0 && n > 0) {
    ctx.strokeStyle = colors.text;
    ctx.lineWidth = 1;
    const mx = Math.round(MARGIN.left + (marked + 0.5) * cellW) + 0.5;
    ctx.beginPath();
    ctx.moveTo(mx, MARGIN.top);
    ctx.lineTo(mx, MARGIN.top + plotH);
    ctx.stroke();
  }
  ctx.fillStyle = colors.text;
  ctx.textBaseline = 'top';
  ctx.textAlign = 'right';
  ctx.fillText(short(hi), MARGIN.left - 4, MARGIN.top);
  ctx.fillText(short(lo), MARGIN.left - 4, MARGIN.top + plotH - 10);
  ctx.textAlign = 'left';
  ctx.fillText(`step ${series.steps[0]}`, MARGIN.left, MARGIN.top + plotH + 4);
  ctx.textAlign = 'right';
  ctx.fillText(`${series.steps[n - 1]}`, MARGIN.left + plotW, MARGIN.top + plotH + 4);
}

/** A histogram key: a run picker, the chosen step's bars, the heatmap over steps. */
export function HistogramView(props: IMediaViewProps): JSX.Element {
  const { store, mediaKey: key } = props;
  const [chosenRun, setChosenRun] = React.useState<string | null>(null);
  const run = props.runs.find(r => r.id === chosenRun) ?? props.runs[0];
  React.useEffect(() => {
    if (props.active) {
      store.ensureHistory(key, run.id);
    }
  }, [props.active, key, run.id, props.version]);
  const history = store.history(key, run.id);
  const series = React.useMemo(() => seriesOf(history?.items ?? []), [history]);
  const [chosenStep, setChosenStep] = React.useState<number | null>(null);
  const newest = series.steps.length ? series.steps[series.steps.length - 1] : null;
  const index = chosenStep === null ? series.steps.length - 1 : series.steps.indexOf(chosenStep);
  const at = index >= 0 ? index : series.steps.length - 1;
  const step = at >= 0 ? series.steps[at] : null;
  const count = store.keyInfo(key, run.id)?.count ?? 0;

  return (
    <>
      <div className="nbtrack-ws-media-steps">
        <label className="nbtrack-ws-control">
          Run
          <select
            className="nbtrack-ws-run-picker"
            value={run.id}
            onChange={event => {
              setChosenRun(event.target.value);
              setChosenStep(null);
            }}
          >
            {props.runs.map(r => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <RunLabel run={run} />
      </div>
      <StepSlider
        steps={series.steps}
        step={step}
        following={chosenStep === null}
        onStep={s => setChosenStep(s === newest ? null : s)}
      />
      {!history ? (
        <div className="nbtrack-ws-media-empty">Loading…</div>
      ) : !series.steps.length ? (
        <div className="nbtrack-ws-media-empty">No histogram to draw</div>
      ) : (
        <>
          <Canvas
            className="nbtrack-ws-hist-bars"
            height={BARS_HEIGHT}
            label={`${key}: bins at step ${step}`}
            data={{ step: step ?? '', bins: series.counts[at].length }}
            deps={[series, at, run.color]}
            draw={(ctx, width, colors) =>
              drawBars(ctx, width, colors, series.counts[at], series.edges[at], run.color)
            }
          />
          <Canvas
            className="nbtrack-ws-hist-heatmap"
            height={HEAT_HEIGHT}
            label={`${key}: bins over ${series.steps.length} steps`}
            data={{ steps: series.steps.length }}
            deps={[series, at, run.color]}
            draw={(ctx, width, colors) =>
              drawHeatmap(ctx, width, colors, series, at, run.color)
            }
          />
          {count > series.steps.length && count > HISTORY_ITEMS ? (
            <div className="nbtrack-hint">The last {series.steps.length} steps of {count}.</div>
          ) : null}
        </>
      )}
    </>
  );
}
