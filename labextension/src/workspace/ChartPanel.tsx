import * as React from 'react';

import { IPanelSettings, PANEL_SIZES, PanelSize, X_AXES, XAxis } from './layout';
import { LineChart } from './LineChart';
import { curveOf, ICurve, ISeriesData } from './series';

/** A run as the charts show it. */
export interface IShownRun {
  id: string;
  label: string;
  color: string;
}

export interface IChartPanelProps {
  metricKey: string;
  settings: IPanelSettings;
  /** The runs to draw, in the table's order (hidden runs are not among them). */
  runs: IShownRun[];
  series: ReadonlyMap<string, ISeriesData>;
  /** Changes whenever `series` changed (it is the same Map object). */
  version: number;
  loading: boolean;
  canMoveLeft: boolean;
  canMoveRight: boolean;
  /** The panel came into view for the first time: its data is wanted. */
  onVisible: (key: string) => void;
  onChange: (key: string, change: Partial<IPanelSettings>) => void;
  onMove: (key: string, offset: number) => void;
  /** Another panel (`source`) was dropped on this one. */
  onDrop: (source: string, target: string) => void;
}

/** Panel heights by size (px). */
const HEIGHTS: { [size in PanelSize]: number } = { S: 190, M: 230, L: 290 };
/** Above this many runs the faint unsmoothed curves are left out (too busy, too slow). */
const RAW_UNDER_SMOOTHED = 20;
const DRAG_TYPE = 'application/x-nbtrack-panel';

/** Calls `onVisible` once, the first time `element` scrolls into view. */
function useSeen(element: React.RefObject<HTMLElement>, onVisible: () => void): boolean {
  const [seen, setSeen] = React.useState(false);
  React.useEffect(() => {
    const node = element.current;
    if (!node || seen) {
      return;
    }
    if (typeof IntersectionObserver === 'undefined') {
      setSeen(true);
      onVisible();
      return;
    }
    const observer = new IntersectionObserver(
      entries => {
        if (entries.some(entry => entry.isIntersecting)) {
          observer.disconnect();
          setSeen(true);
          onVisible();
        }
      },
      { rootMargin: '200px' }
    );
    observer.observe(node);
    return () => observer.disconnect();
  }, [seen]);
  return seen;
}

/** One metric key's chart: every shown run's curve, with the panel's own settings. */
function ChartPanelView(props: IChartPanelProps): JSX.Element {
  const { metricKey: key, settings } = props;
  const element = React.useRef<HTMLDivElement>(null);
  const seen = useSeen(element, () => props.onVisible(key));
  const [dropping, setDropping] = React.useState(false);

  const curves = React.useMemo(() => {
    const out: ICurve[] = [];
    for (const run of props.runs) {
      const data = props.series.get(run.id);
      if (data && data.step.length) {
        out.push(curveOf(run, data, settings));
      }
    }
    return out;
  }, [props.runs, props.version, settings.x, settings.smoothing, settings.log]);
  const raw = React.useMemo(() => {
    if (settings.smoothing <= 0 || curves.length > RAW_UNDER_SMOOTHED) {
      return undefined;
    }
    return props.runs
      .filter(run => props.series.get(run.id)?.step.length)
      .map(run => curveOf(run, props.series.get(run.id)!, { ...settings, smoothing: 0 }));
  }, [curves]);

  const change = (c: Partial<IPanelSettings>) => props.onChange(key, c);
  const onDragOver = (event: React.DragEvent) => {
    if (event.dataTransfer.types.includes(DRAG_TYPE)) {
      event.preventDefault();
      setDropping(true);
    }
  };
  const onDrop = (event: React.DragEvent) => {
    setDropping(false);
    const source = event.dataTransfer.getData(DRAG_TYPE);
    if (source && source !== key) {
      event.preventDefault();
      props.onDrop(source, key);
    }
  };

  return (
    <div
      ref={element}
      className={
        `nbtrack-ws-panel nbtrack-ws-size-${settings.size}` +
        (settings.collapsed ? ' nbtrack-ws-collapsed' : '') +
        (dropping ? ' nbtrack-ws-dropping' : '')
      }
      data-key={key}
      data-size={settings.size}
      onDragOver={onDragOver}
      onDragLeave={() => setDropping(false)}
      onDrop={onDrop}
    >
      <div
        className="nbtrack-ws-panel-header"
        draggable
        title="Drag to reorder"
        onDragStart={event => {
          event.dataTransfer.setData(DRAG_TYPE, key);
          event.dataTransfer.effectAllowed = 'move';
        }}
      >
        <button
          className="nbtrack-ws-icon nbtrack-ws-collapse"
          aria-expanded={!settings.collapsed}
          title={settings.collapsed ? 'Expand' : 'Collapse'}
          onClick={() => change({ collapsed: !settings.collapsed })}
        >
          {settings.collapsed ? '▸' : '▾'}
        </button>
        <span className="nbtrack-ws-panel-title" title={key}>
          {key}
        </span>
        <span className="nbtrack-spacer" />
        <button
          className="nbtrack-ws-icon nbtrack-ws-move-left"
          title="Move left"
          disabled={!props.canMoveLeft}
          onClick={() => props.onMove(key, -1)}
        >
          ←
        </button>
        <button
          className="nbtrack-ws-icon nbtrack-ws-move-right"
          title="Move right"
          disabled={!props.canMoveRight}
          onClick={() => props.onMove(key, 1)}
        >
          →
        </button>
        <span className="nbtrack-ws-sizes" role="group" aria-label="Panel size">
          {PANEL_SIZES.map(size => (
            <button
              key={size}
              className={'nbtrack-ws-size' + (settings.size === size ? ' nbtrack-active' : '')}
              aria-pressed={settings.size === size}
              title={{ S: 'Small', M: 'Medium', L: 'Large (whole row)' }[size]}
              onClick={() => change({ size })}
            >
              {size}
            </button>
          ))}
        </span>
      </div>
      {settings.collapsed ? null : (
        <>
          <div className="nbtrack-ws-panel-controls">
            <label className="nbtrack-ws-control nbtrack-ws-smoothing" title="EMA smoothing">
              Smooth
              <input
                type="range"
                min={0}
                max={0.99}
                step={0.01}
                value={settings.smoothing}
                onChange={event => change({ smoothing: Number(event.target.value) })}
              />
              <span className="nbtrack-ws-smoothing-value">{settings.smoothing.toFixed(2)}</span>
            </label>
            <label className="nbtrack-ws-control">
              <input
                type="checkbox"
                className="nbtrack-ws-log"
                checked={settings.log}
                onChange={event => change({ log: event.target.checked })}
              />
              Log
            </label>
            <select
              className="nbtrack-ws-x"
              aria-label="x axis"
              value={settings.x}
              onChange={event => change({ x: event.target.value as XAxis })}
            >
              {X_AXES.map(axis => (
                <option key={axis.id} value={axis.id}>
                  {axis.label}
                </option>
              ))}
            </select>
          </div>
          {seen && curves.length ? (
            <LineChart
              curves={curves}
              raw={raw}
              log={settings.log}
              x={settings.x}
              height={HEIGHTS[settings.size]}
            />
          ) : (
            <div className="nbtrack-ws-placeholder" style={{ height: HEIGHTS[settings.size] }}>
              {!seen || props.loading
                ? 'Loading…'
                : props.runs.length
                  ? 'No points for the shown runs'
                  : 'No runs shown'}
            </div>
          )}
        </>
      )}
    </div>
  );
}

export const ChartPanel = React.memo(ChartPanelView);
