/** One media key's panel: header (collapse, size), then the view of its kind. */
import * as React from 'react';

import type { IShownRun } from '../ChartPanel';
import { IPanelSettings, PANEL_SIZES } from '../layout';
import { HistogramView } from './HistogramView';
import { ImageView } from './ImageView';
import { IMediaViewProps, MAX_COLUMNS } from './parts';
import { IMediaPanel, MediaStore } from './store';
import { TableView } from './TableView';
import { ValueView } from './ValueViews';

export interface IMediaPanelProps {
  panel: IMediaPanel;
  /** The shown runs (colours and labels); the panel picks those that logged its key. */
  runs: IShownRun[];
  store: MediaStore;
  version: number;
  settings: IPanelSettings;
  onChange: (key: string, change: Partial<IPanelSettings>) => void;
}

const KIND_LABELS: { [kind: string]: string } = {
  image: 'images',
  table: 'table',
  histogram: 'histogram',
  audio: 'audio',
  figure: 'figure',
  text: 'text',
  html: 'HTML'
};

/** True once `element` has come near the viewport (then for good). */
function useSeen(element: React.RefObject<HTMLElement>): boolean {
  const [seen, setSeen] = React.useState(false);
  React.useEffect(() => {
    const node = element.current;
    if (!node || seen) {
      return;
    }
    if (typeof IntersectionObserver === 'undefined') {
      setSeen(true);
      return;
    }
    const observer = new IntersectionObserver(
      entries => {
        if (entries.some(entry => entry.isIntersecting)) {
          observer.disconnect();
          setSeen(true);
        }
      },
      { rootMargin: '200px' }
    );
    observer.observe(node);
    return () => observer.disconnect();
  }, [seen]);
  return seen;
}

function MediaPanelView(props: IMediaPanelProps): JSX.Element {
  const { panel, settings, store } = props;
  const element = React.useRef<HTMLDivElement>(null);
  const seen = useSeen(element);
  const runs = React.useMemo(() => {
    const have = new Set(panel.runs);
    return props.runs.filter(run => have.has(run.id));
  }, [props.runs, panel.runs.join(',')]);
  const columns = React.useMemo(() => runs.slice(0, MAX_COLUMNS), [runs]);
  const change = (c: Partial<IPanelSettings>) => props.onChange(panel.key, c);
  const error = store.error(panel.key);
  const view: IMediaViewProps = {
    mediaKey: panel.key,
    kind: panel.kind,
    runs: columns,
    store,
    version: props.version,
    active: seen
  };

  return (
    <div
      ref={element}
      className={
        `nbtrack-ws-panel nbtrack-ws-media-panel nbtrack-ws-size-${settings.size}` +
        (settings.collapsed ? ' nbtrack-ws-collapsed' : '')
      }
      data-key={panel.key}
      data-kind={panel.kind}
      data-size={settings.size}
    >
      <div className="nbtrack-ws-panel-header">
        <button
          className="nbtrack-ws-icon nbtrack-ws-collapse"
          aria-expanded={!settings.collapsed}
          title={settings.collapsed ? 'Expand' : 'Collapse'}
          onClick={() => change({ collapsed: !settings.collapsed })}
        >
          {settings.collapsed ? '▸' : '▾'}
        </button>
        <span className="nbtrack-ws-panel-title" title={panel.key}>
          {panel.key}
        </span>
        <span className="nbtrack-ws-media-kind">{KIND_LABELS[panel.kind] ?? panel.kind}</span>
        <span className="nbtrack-spacer" />
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
        <div className="nbtrack-ws-media-body">
          {error ? <div className="nbtrack-error">{error}</div> : null}
          {runs.length > columns.length ? (
            <div className="nbtrack-hint nbtrack-ws-media-more">
              The first {columns.length} of {runs.length} runs: hide runs in the table to see
              others.
            </div>
          ) : null}
          {!runs.length ? (
            <div className="nbtrack-ws-placeholder">No runs shown</div>
          ) : panel.kind === 'image' ? (
            <ImageView {...view} />
          ) : panel.kind === 'table' ? (
            <TableView {...view} />
          ) : panel.kind === 'histogram' ? (
            <HistogramView {...view} />
          ) : (
            <ValueView {...view} />
          )}
        </div>
      )}
    </div>
  );
}

export const MediaPanel = React.memo(MediaPanelView);
