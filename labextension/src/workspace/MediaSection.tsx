/**
 * MEDIA PANELS: the place for images, tables, histograms, audio and figures (issue 10,
 * "Media panels"). Media logging and its HTTP endpoints are being built separately; this
 * section is where the workspace will show them, after the scalar chart sections. It renders
 * nothing until it is given panels.
 *
 * To fill it: give each media key one `IMediaPanel` (from the media endpoints, fetched in the
 * workspace model like the scalar series) and render a panel component per `kind` inside the
 * grid below, using the same `ChartSection` (collapsible, remembered in the layout) and
 * `IShownRun` colours as the charts.
 */
import * as React from 'react';

import type { IShownRun } from './ChartPanel';

/** One media key to show (placeholder shape until the media endpoints exist). */
export interface IMediaPanel {
  key: string;
  kind: 'image' | 'table' | 'histogram' | 'audio' | 'figure' | 'text' | 'html';
}

export interface IMediaSectionProps {
  panels: IMediaPanel[];
  runs: IShownRun[];
}

/** The media section: nothing yet (see the module comment). */
export function MediaSection(props: IMediaSectionProps): JSX.Element | null {
  if (!props.panels.length) {
    return null;
  }
  return (
    <section className="nbtrack-ws-section nbtrack-ws-media" data-section="media">
      {/* Media panels per kind go here. */}
    </section>
  );
}
