/**
 * Curves of many runs on one canvas: axes with readable ticks, a linear or log y axis, and a
 * tooltip naming the run and point nearest the pointer.
 *
 * Drawn on a canvas, not with Vega: the workspace shows hundreds of curves in dozens of panels
 * at once, and a canvas draws 200 curves of 500 points in a few milliseconds where a Vega view
 * takes hundreds. Colours of the axes come from JupyterLab's CSS variables, so both themes read.
 */
import * as React from 'react';

import { formatDuration, formatNumber } from '../components/format';
import type { XAxis } from './layout';
import type { ICurve } from './series';

export interface ILineChartProps {
  curves: ICurve[];
  /** The unsmoothed curves, drawn faintly under `curves` (when smoothing is on). */
  raw?: ICurve[];
  log: boolean;
  x: XAxis;
  height: number;
}

interface IScale {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
  log: boolean;
}

interface IHover {
  curve: number;
  index: number;
  px: number;
  py: number;
}

/** Tick values covering [min, max], about `count` of them at 1, 2 or 5 times a power of ten. */
export function niceTicks(min: number, max: number, count: number): number[] {
  if (!isFinite(min) || !isFinite(max)) {
    return [];
  }
  if (min === max) {
    return [min];
  }
  const raw = (max - min) / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * power).find(s => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) {
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : Number(t.toPrecision(12)));
  }
  return ticks;
}

function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  if (hi - lo < 1) {
    return niceTicks(min, max, 4);
  }
  const ticks: number[] = [];
  const multiples = hi - lo <= 2 ? [1, 2, 5] : [1];
  for (let p = lo; p <= hi; p++) {
    for (const m of multiples) {
      const t = m * Math.pow(10, p);
      if (t >= min * (1 - 1e-9) && t <= max * (1 + 1e-9)) {
        ticks.push(t);
      }
    }
  }
  // Less than a few decades' worth: linear ticks read better than one or two powers of ten.
  return ticks.length >= 3 ? ticks : niceTicks(min, max, 4).filter(t => t > 0);
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Text of an x tick: a step (`12k`), a clock time or a duration. */
export function formatX(value: number, axis: XAxis, span: number): string {
  if (axis === 'wall') {
    const d = new Date(value * 1000);
    const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
    return span < 300 ? `${hm}:${pad2(d.getSeconds())}` : hm;
  }
  if (axis === 'relative') {
    if (value === 0) {
      return '0';
    }
    if (Math.abs(value) < 1) {
      return `${Number((value * 1000).toPrecision(3))}ms`;
    }
    return value < 60 ? `${Number(value.toPrecision(3))}s` : formatDuration(value);
  }
  const abs = Math.abs(value);
  if (abs >= 1e6) {
    return `${Number((value / 1e6).toPrecision(3))}M`;
  }
  if (abs >= 1e4) {
    return `${Number((value / 1e3).toPrecision(3))}k`;
  }
  return formatNumber(value);
}

function cssVar(element: Element, name: string, fallback: string): string {
  return getComputedStyle(element).getPropertyValue(name).trim() || fallback;
}

/** Draw the axes and curves on `canvas`; return the scale used (for hovering). */
function draw(
  canvas: HTMLCanvasElement,
  width: number,
  height: number,
  props: ILineChartProps
): IScale | null {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) {
    return null;
  }
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const text = cssVar(canvas, '--jp-ui-font-color2', '#616161');
  const grid = cssVar(canvas, '--jp-border-color2', '#e0e0e0');
  const font = cssVar(canvas, '--jp-ui-font-family', 'sans-serif');
  ctx.font = `11px ${font}`;

  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const curve of [...props.curves, ...(props.raw ?? [])]) {
    for (let i = 0; i < curve.x.length; i++) {
      const y = curve.y[i];
      if (y === null || !isFinite(y) || (props.log && y <= 0)) {
        continue;
      }
      const x = curve.x[i];
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  }
  if (!isFinite(x0) || !isFinite(y0)) {
    ctx.fillStyle = text;
    ctx.textAlign = 'center';
    ctx.fillText(props.log ? 'No positive values to show on a log scale' : 'No points yet',
      width / 2, height / 2);
    return null;
  }
  if (x0 === x1) {
    x0 -= 1;
    x1 += 1;
  }
  if (props.log) {
    if (y0 === y1) {
      y0 /= 2;
      y1 *= 2;
    }
  } else {
    const spread = y1 - y0 || Math.abs(y0) || 1;
    y0 -= spread * 0.05;
    y1 += spread * 0.05;
  }
  const yTicks = props.log ? logTicks(y0, y1) : niceTicks(y0, y1, Math.max(2, height / 40));
  const labels = yTicks.map(t => formatNumber(t));
  const left = Math.ceil(Math.max(24, ...labels.map(l => ctx.measureText(l).width)) + 10);
  const scale: IScale = {
    x0, x1, y0, y1, log: props.log, left, right: width - 12, top: 8, bottom: height - 22
  };
  const px = (x: number) => scale.left + ((x - x0) / (x1 - x0)) * (scale.right - scale.left);
  const ly0 = props.log ? Math.log10(y0) : y0;
  const ly1 = props.log ? Math.log10(y1) : y1;
  const py = (y: number) =>
    scale.bottom - (((props.log ? Math.log10(y) : y) - ly0) / (ly1 - ly0)) * (scale.bottom - scale.top);

  // Grid and tick labels.
  ctx.strokeStyle = grid;
  ctx.lineWidth = 1;
  ctx.fillStyle = text;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  yTicks.forEach((t, i) => {
    const y = Math.round(py(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(scale.left, y);
    ctx.lineTo(scale.right, y);
    ctx.stroke();
    ctx.fillText(labels[i], scale.left - 6, y);
  });
  const xTicks = niceTicks(x0, x1, Math.max(2, Math.floor((scale.right - scale.left) / 90)));
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of xTicks) {
    const x = Math.round(px(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(x, scale.bottom);
    ctx.lineTo(x, scale.bottom + 4);
    ctx.stroke();
    ctx.fillText(formatX(t, props.x, x1 - x0), x, scale.bottom + 6);
  }
  ctx.beginPath();
  ctx.moveTo(scale.left, scale.bottom + 0.5);
  ctx.lineTo(scale.right, scale.bottom + 0.5);
  ctx.stroke();

  // Curves, clipped to the plot.
  ctx.save();
  ctx.beginPath();
  ctx.rect(scale.left, scale.top - 2, scale.right - scale.left, scale.bottom - scale.top + 4);
  ctx.clip();
  ctx.lineJoin = 'round';
  const stroke = (curve: ICurve, alpha: number, lineWidth: number) => {
    ctx.globalAlpha = alpha;
    ctx.strokeStyle = curve.color;
    ctx.fillStyle = curve.color;
    ctx.lineWidth = lineWidth;
    ctx.beginPath();
    let drawing = false;
    let points = 0;
    for (let i = 0; i < curve.x.length; i++) {
      const y = curve.y[i];
      if (y === null || !isFinite(y) || (props.log && y <= 0)) {
        drawing = false;
        continue;
      }
      const cx = px(curve.x[i]);
      const cy = py(y);
      if (drawing) {
        ctx.lineTo(cx, cy);
      } else {
        ctx.moveTo(cx, cy);
        drawing = true;
      }
      points++;
    }
    ctx.stroke();
    if (points === 1) {
      // A single point draws no line: show it as a dot.
      const i = curve.y.findIndex(v => v !== null && isFinite(v));
      ctx.beginPath();
      ctx.arc(px(curve.x[i]), py(curve.y[i]!), 2.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  };
  for (const curve of props.raw ?? []) {
    stroke(curve, 0.25, 1);
  }
  const many = props.curves.length > 50;
  for (const curve of props.curves) {
    stroke(curve, many ? 0.7 : 0.95, many ? 1 : 1.6);
  }
  ctx.restore();
  ctx.globalAlpha = 1;
  return scale;
}

function toPixel(scale: IScale, x: number, y: number): [number, number] {
  const fx = (x - scale.x0) / (scale.x1 - scale.x0);
  const ly = scale.log ? Math.log10(y) : y;
  const ly0 = scale.log ? Math.log10(scale.y0) : scale.y0;
  const ly1 = scale.log ? Math.log10(scale.y1) : scale.y1;
  return [
    scale.left + fx * (scale.right - scale.left),
    scale.bottom - ((ly - ly0) / (ly1 - ly0)) * (scale.bottom - scale.top)
  ];
}

/** The point of any curve nearest to (mx, my), within 40 px. */
function nearest(curves: ICurve[], scale: IScale, mx: number, my: number): IHover | null {
  let best: IHover | null = null;
  let bestDistance = 40 * 40;
  curves.forEach((curve, c) => {
    for (let i = 0; i < curve.x.length; i++) {
      const y = curve.y[i];
      if (y === null || !isFinite(y) || (scale.log && y <= 0)) {
        continue;
      }
      const [px, py] = toPixel(scale, curve.x[i], y);
      const distance = (px - mx) * (px - mx) + (py - my) * (py - my);
      if (distance < bestDistance) {
        bestDistance = distance;
        best = { curve: c, index: i, px, py };
      }
    }
  });
  return best;
}

/** The chart: a canvas filling its container's width, and a hover layer. */
export function LineChart(props: ILineChartProps): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  const base = React.useRef<HTMLCanvasElement>(null);
  const overlay = React.useRef<HTMLCanvasElement>(null);
  const scale = React.useRef<IScale | null>(null);
  const [width, setWidth] = React.useState(0);
  const [hover, setHover] = React.useState<IHover | null>(null);

  React.useLayoutEffect(() => {
    const element = host.current;
    if (!element) {
      return;
    }
    setWidth(element.clientWidth);
    if (typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(() => {
      const next = element.clientWidth;
      setWidth(previous => (Math.abs(previous - next) >= 1 ? next : previous));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  React.useEffect(() => {
    if (base.current && width > 0) {
      scale.current = draw(base.current, width, props.height, props);
    }
    setHover(null);
  }, [props.curves, props.raw, props.log, props.x, props.height, width]);

  // The hovered curve drawn again on top, thicker, with its point marked.
  React.useEffect(() => {
    const canvas = overlay.current;
    if (!canvas || width <= 0) {
      return;
    }
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(props.height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${props.height}px`;
    const ctx = canvas.getContext('2d');
    const s = scale.current;
    if (!ctx || !hover || !s) {
      return;
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const curve = props.curves[hover.curve];
    if (!curve) {
      return;
    }
    ctx.save();
    ctx.beginPath();
    ctx.rect(s.left, s.top - 2, s.right - s.left, s.bottom - s.top + 4);
    ctx.clip();
    ctx.strokeStyle = curve.color;
    ctx.fillStyle = curve.color;
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    let drawing = false;
    for (let i = 0; i < curve.x.length; i++) {
      const y = curve.y[i];
      if (y === null || !isFinite(y) || (s.log && y <= 0)) {
        drawing = false;
        continue;
      }
      const [px, py] = toPixel(s, curve.x[i], y);
      if (drawing) {
        ctx.lineTo(px, py);
      } else {
        ctx.moveTo(px, py);
        drawing = true;
      }
    }
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(hover.px, hover.py, 4, 0, 2 * Math.PI);
    ctx.fill();
    ctx.restore();
  }, [hover, width, props.height, props.curves]);

  const frame = React.useRef(0);
  const onMove = (event: React.MouseEvent<HTMLDivElement>) => {
    const rect = event.currentTarget.getBoundingClientRect();
    const mx = event.clientX - rect.left;
    const my = event.clientY - rect.top;
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => {
      const s = scale.current;
      setHover(s ? nearest(props.curves, s, mx, my) : null);
    });
  };
  React.useEffect(() => () => cancelAnimationFrame(frame.current), []);

  const hovered = hover ? props.curves[hover.curve] : undefined;
  const points = props.curves.reduce((n, c) => n + c.x.length, 0);
  return (
    <div
      className="nbtrack-ws-chart"
      ref={host}
      style={{ height: props.height }}
      data-runs={props.curves.map(c => c.id).join(' ')}
      data-points={points}
      onMouseMove={onMove}
      onMouseLeave={() => setHover(null)}
    >
      <canvas ref={base} className="nbtrack-ws-canvas" />
      <canvas ref={overlay} className="nbtrack-ws-canvas nbtrack-ws-overlay" />
      {hover && hovered ? (
        <div
          className="nbtrack-ws-tooltip"
          style={{
            left: Math.min(hover.px + 12, Math.max(0, width - 180)),
            top: Math.max(0, hover.py - 40)
          }}
        >
          <span className="nbtrack-ws-swatch" style={{ background: hovered.color }} />
          {hovered.label}
          <br />
          {props.x === 'step' ? 'step' : props.x === 'wall' ? 'time' : 'after'}{' '}
          {props.x === 'wall'
            ? new Date(hovered.x[hover.index] * 1000).toLocaleTimeString()
            : formatX(hovered.x[hover.index], props.x, 0)}
          {': '}
          <b>{formatNumber(hovered.y[hover.index])}</b>
        </div>
      ) : null}
    </div>
  );
}
