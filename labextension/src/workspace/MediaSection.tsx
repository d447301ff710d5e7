/**
 * The "Media" section of the Runs workspace, after the chart sections: one panel per media
 * key the shown runs logged (images, tables, histograms, audio, text, HTML, figures), in the
 * same collapsible section and grid as the charts (collapsed state and panel sizes kept in the
 * layout). The data comes from the workspace model's `MediaStore`.
 */
import * as React from 'react';

import type { IShownRun } from './ChartPanel';
import { ChartSection } from './ChartSection';
import { DEFAULT_PANEL, IPanelSettings, IWorkspaceLayout, PanelSize } from './layout';
import { MediaPanel } from './media/MediaPanel';
import { IMediaPanel, MediaStore } from './media/store';

export type { IMediaPanel } from './media/store';

/** The section's name (its collapsed state is kept under it). */
export const MEDIA_SECTION = 'Media';

/** Where a media panel's settings live in the layout (apart from the chart keys). */
export function mediaPanelId(key: string): string {
  return `media:${key}`;
}

/** Images, tables and histograms start at half a row; the others at a third. */
function defaultSize(kind: string): PanelSize {
  return kind === 'image' || kind === 'table' || kind === 'histogram' ? 'M' : 'S';
}

export interface IMediaSectionProps {
  panels: IMediaPanel[];
  runs: IShownRun[];
  store: MediaStore;
  /** Changes whenever the store's data changed. */
  version: number;
  layout: IWorkspaceLayout;
  onToggle: (name: string) => void;
  /** A panel's settings changed (`id`: `mediaPanelId(key)`). */
  onChange: (id: string, change: Partial<IPanelSettings>) => void;
}

/** The media section: nothing until a shown run logged a rich value. */
export function MediaSection(props: IMediaSectionProps): JSX.Element | null {
  const { layout, panels } = props;
  const settingsOf = (key: string, kind: string): IPanelSettings =>
    layout.panels[mediaPanelId(key)] ?? { ...DEFAULT_PANEL, size: defaultSize(kind) };
  const latest = React.useRef({ panels, settingsOf });
  latest.current = { panels, settingsOf };
  // Stable, so that panels skip re-rendering when only other props of the workspace changed.
  const onChange = React.useCallback(
    (key: string, change: Partial<IPanelSettings>) => {
      const kind = latest.current.panels.find(p => p.key === key)?.kind ?? '';
      props.onChange(mediaPanelId(key), { ...latest.current.settingsOf(key, kind), ...change });
    },
    [props.onChange]
  );
  if (!props.panels.length) {
    return null;
  }
  return (
    <ChartSection
      name={MEDIA_SECTION}
      count={props.panels.length}
      collapsed={layout.collapsedSections.includes(MEDIA_SECTION)}
      onToggle={props.onToggle}
    >
      {props.panels.map(panel => (
        <MediaPanel
          key={panel.key}
          panel={panel}
          runs={props.runs}
          store={props.store}
          version={props.version}
          settings={settingsOf(panel.key, panel.kind)}
          onChange={onChange}
        />
      ))}
    </ChartSection>
  );
}
