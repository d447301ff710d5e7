/**
 * The runs side by side at one step, with the cells of the
 * kinds that need nothing more: audio players, text, sandboxed HTML and figures.
 */
import * as React from 'react';

import { blobURL } from '../../api';
import { VegaChart } from '../../components/VegaChart';
import { IMediaRecord } from '../../tokens';
import type { IShownRun } from '../ChartPanel';
import { IMediaViewProps, RunColumns, useBlobText } from './parts';
import { MediaStore } from './store';
import { useSteps } from './useSteps';

function caption(item: IMediaRecord): string | null {
  const text = item.meta.caption;
  return typeof text === 'string' && text ? text : null;
}

function AudioCell(props: { item: IMediaRecord; run: IShownRun }): JSX.Element {
  const { item } = props;
  const duration = Number(item.meta.duration);
  const rate = Number(item.meta.rate);
  return (
    <figure className="nbtrack-ws-audio">
      {item.blob ? (
        <audio
          controls
          preload="metadata"
          src={blobURL(item.blob)}
          aria-label={`${item.key}, ${props.run.label}, step ${item.step}`}
        />
      ) : null}
      <figcaption>
        {caption(item) ? <span className="nbtrack-ws-caption">{caption(item)} · </span> : null}
        {isFinite(duration) ? `${duration.toFixed(2)} s` : ''}
        {isFinite(rate) ? ` · ${rate} Hz` : ''}
      </figcaption>
    </figure>
  );
}

function TextCell(props: { item: IMediaRecord; store: MediaStore }): JSX.Element {
  const text = useBlobText(props.store, props.item.blob, props.item.key);
  return (
    <pre className="nbtrack-ws-text">{text === undefined ? 'Loading…' : text}</pre>
  );
}

/** HTML in a frame with every sandbox restriction: no script, no same origin, no forms. */
function HtmlCell(props: { item: IMediaRecord; store: MediaStore; run: IShownRun }): JSX.Element {
  const html = useBlobText(props.store, props.item.blob, props.item.key);
  if (html === undefined) {
    return <div className="nbtrack-ws-media-empty">Loading…</div>;
  }
  return (
    <iframe
      className="nbtrack-ws-html"
      sandbox=""
      srcDoc={html}
      title={`${props.item.key}, ${props.run.label}, step ${props.item.step}`}
    />
  );
}

/**
 * A single view without a width of its own (Altair's default: 300 px from its config) takes
 * its column's width; compound charts (concat, facet, repeat) keep theirs and scroll.
 */
function fitToColumn(spec: { [key: string]: unknown }): { [key: string]: unknown } {
  const single = 'mark' in spec || 'layer' in spec;
  return single && spec.width === undefined ? { ...spec, width: 'container' } : spec;
}

function FigureCell(props: { item: IMediaRecord; store: MediaStore }): JSX.Element {
  const { item } = props;
  const format = item.meta.format;
  const spec = useBlobText(props.store, format === 'vega-lite' ? item.blob : null, item.key);
  const parsed = React.useMemo(() => {
    if (spec === undefined) {
      return undefined;
    }
    try {
      return fitToColumn(JSON.parse(spec) as { [key: string]: unknown });
    } catch {
      return null;
    }
  }, [spec]);
  if (format === 'png' && item.blob) {
    return (
      <img
        className="nbtrack-ws-figure-png"
        src={blobURL(item.blob)}
        loading="lazy"
        alt={`${item.key} at step ${item.step}`}
      />
    );
  }
  if (format === 'vega-lite') {
    if (parsed === undefined) {
      return <div className="nbtrack-ws-media-empty">Loading…</div>;
    }
    if (parsed === null) {
      return <div className="nbtrack-error">The chart's spec is not valid JSON</div>;
    }
    return (
      <div className="nbtrack-ws-figure-vega">
        <VegaChart spec={parsed} />
      </div>
    );
  }
  return (
    <div className="nbtrack-ws-media-note">
      A {String(format || 'figure')} figure: not drawn here (the workspace has no plotly.js).
      Read it with <code>run.history("{item.key}")</code>.
    </div>
  );
}

/** Audio, text, HTML and figures: the runs side by side at the slider's step. */
export function ValueView(props: IMediaViewProps): JSX.Element {
  const runIds = React.useMemo(() => props.runs.map(r => r.id), [props.runs]);
  const steps = useSteps(props.mediaKey, runIds, props.store, props.version, props.active);
  const cell = (run: IShownRun, item: IMediaRecord): React.ReactNode => {
    switch (props.kind) {
      case 'audio':
        return <AudioCell item={item} run={run} />;
      case 'html':
        return <HtmlCell item={item} store={props.store} run={run} />;
      case 'figure':
        return <FigureCell item={item} store={props.store} />;
      default:
        return <TextCell item={item} store={props.store} />;
    }
  };
  return <RunColumns runs={props.runs} steps={steps} cell={cell} />;
}
