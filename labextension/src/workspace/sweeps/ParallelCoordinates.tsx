import * as React from 'react';

import { formatNumber } from '../../components/format';
import { ISweepDetail } from '../../tokens';
import { categoryLabel, drawnTrials, layoutParallel, PC_TOP, valueColor } from './parallel';

export interface IParallelCoordinatesProps {
  detail: ISweepDetail;
  /** A trial's line was clicked (open its run). */
  onOpenRun?: (runId: string) => void;
}

/** Cut `text` to about `max` characters (the full text is in the tooltip). */
function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Parallel coordinates as SVG: an axis per searched param and one for the objective, a line
 * per finished trial colored by its value (the best drawn thicker, on top). Text is rendered
 * by React (escaped); hovering a line names its trial, clicking it opens the trial's run.
 */
export function ParallelCoordinates(props: IParallelCoordinatesProps): JSX.Element {
  const { detail, onOpenRun } = props;
  const layout = React.useMemo(() => layoutParallel(detail), [detail]);
  const gradient = React.useId().replace(/:/g, '');
  if (!drawnTrials(detail).length) {
    return <div className="nbtrack-hint">No finished trial yet: lines appear as trials end.</div>;
  }
  return (
    <div className="nbtrack-pc">
      <div className="nbtrack-pc-scroll">
        <svg
          className="nbtrack-parallel"
          width={layout.width}
          height={layout.height}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          role="img"
          aria-label={`Parallel coordinates of sweep ${detail.name}`}
        >
          {layout.lines.map(line => {
            const t = line.trial;
            const params = Object.entries(t.params)
              .map(([k, v]) => `${k}=${typeof v === 'number' ? formatNumber(v) : categoryLabel(v)}`)
              .join(', ');
            const open = onOpenRun && t.run_id ? () => onOpenRun(t.run_id!) : undefined;
            return (
              <path
                key={t.number}
                className={
                  'nbtrack-pc-line' +
                  (line.best ? ' nbtrack-pc-best' : '') +
                  (open ? ' nbtrack-clickable' : '')
                }
                data-trial={t.number}
                d={line.path}
                stroke={line.color}
                onClick={open}
              >
                <title>
                  {`trial ${t.number}${t.run_number !== null ? ` (run #${t.run_number})` : ''}: ` +
                    `${detail.metric}=${formatNumber(t.value)}; ${params}`}
                </title>
              </path>
            );
          })}
          {layout.axes.map(axis => (
            <g
              key={`${axis.value ? 'value' : 'param'}:${axis.name}`}
              className={'nbtrack-pc-axis' + (axis.value ? ' nbtrack-pc-value-axis' : '')}
              data-axis={axis.name}
              transform={`translate(${axis.x}, 0)`}
            >
              <line y1={PC_TOP} y2={layout.height - 18} />
              <text className="nbtrack-pc-name" y={PC_TOP - 14} textAnchor="middle">
                <title>{axis.name + (axis.kind === 'log' ? ' (log scale)' : '')}</title>
                {clip(axis.name, 20)}
                {axis.kind === 'log' ? ' (log)' : ''}
              </text>
              {axis.ticks.map((tick, i) => (
                // The value axis is the last: its ticks go right, where no line is drawn.
                <text
                  key={i}
                  className="nbtrack-pc-tick"
                  x={axis.value ? 6 : -6}
                  y={tick.y + 4}
                  textAnchor={axis.value ? 'start' : 'end'}
                >
                  {clip(tick.label, 12)}
                </text>
              ))}
            </g>
          ))}
        </svg>
      </div>
      {layout.worse !== null && layout.better !== null ? (
        <div className="nbtrack-pc-legend">
          <span>worse {formatNumber(layout.worse)}</span>
          <svg width={120} height={10} aria-hidden="true">
            <defs>
              <linearGradient id={`pc-${gradient}`}>
                {[0, 0.25, 0.5, 0.75, 1].map(t => (
                  <stop key={t} offset={t} stopColor={valueColor(t)} />
                ))}
              </linearGradient>
            </defs>
            <rect width={120} height={10} rx={2} fill={`url(#pc-${gradient})`} />
          </svg>
          <span>better {formatNumber(layout.better)}</span>
        </div>
      ) : null}
    </div>
  );
}
