/**
 * The Runs workspace's layout: what the user arranged and expects back after a reload (panel
 * order, sizes and settings, collapsed sections, hidden runs, table columns, grouping). Plain
 * JSON, saved in JupyterLab's state database per workspace; `sanitizeLayout` reads whatever
 * was saved (by an older version, or edited by hand) without trusting it.
 */

/** Panel widths in the grid: a third, half or the whole row. */
export type PanelSize = 'S' | 'M' | 'L';
export const PANEL_SIZES: PanelSize[] = ['S', 'M', 'L'];

/** What a chart's x axis shows: the step, the wall-clock time, or the time since the start. */
export type XAxis = 'step' | 'wall' | 'relative';
export const X_AXES: { id: XAxis; label: string }[] = [
  { id: 'step', label: 'Step' },
  { id: 'wall', label: 'Wall time' },
  { id: 'relative', label: 'Relative time' }
];

/** One chart panel's own settings. */
export interface IPanelSettings {
  size: PanelSize;
  /** EMA weight in [0, 0.99]; 0 draws the raw points. */
  smoothing: number;
  log: boolean;
  x: XAxis;
  collapsed: boolean;
}

export const DEFAULT_PANEL: IPanelSettings = {
  size: 'S',
  smoothing: 0,
  log: false,
  x: 'step',
  collapsed: false
};

/**
 * A table column: `status`, `notebook`, `duration`, `started`, `tags`, `params.<name>` or
 * `metrics.<key>` (the run's summary value of that key).
 */
export type ColumnId = string;

export const BASE_COLUMNS: { id: ColumnId; label: string }[] = [
  { id: 'status', label: 'Status' },
  { id: 'notebook', label: 'Notebook' },
  { id: 'started', label: 'Started' },
  { id: 'duration', label: 'Duration' },
  { id: 'tags', label: 'Tags' }
];

export interface IWorkspaceLayout {
  /** Chart keys in the order the user arranged them; keys not listed follow, sorted. */
  order: string[];
  panels: { [key: string]: IPanelSettings };
  /** Names of collapsed sections (`train`, `val`, `system`, ...). */
  collapsedSections: string[];
  /** Run ids whose curves the charts leave out. */
  hidden: string[];
  columns: ColumnId[];
  /** `params.<name>` or `tag`; null: no grouping. */
  groupBy: string | null;
  /** Group labels whose rows are folded. */
  collapsedGroups: string[];
}

export const DEFAULT_LAYOUT: IWorkspaceLayout = {
  order: [],
  panels: {},
  collapsedSections: [],
  hidden: [],
  columns: ['status', 'notebook', 'duration', 'tags'],
  groupBy: null,
  collapsedGroups: []
};

function strings(value: unknown, limit = 10000): string[] {
  return Array.isArray(value)
    ? value.filter((v): v is string => typeof v === 'string').slice(0, limit)
    : [];
}

function panelOf(value: unknown): IPanelSettings {
  const v = (value && typeof value === 'object' ? value : {}) as { [key: string]: unknown };
  const smoothing = typeof v.smoothing === 'number' && isFinite(v.smoothing) ? v.smoothing : 0;
  return {
    size: PANEL_SIZES.includes(v.size as PanelSize) ? (v.size as PanelSize) : DEFAULT_PANEL.size,
    smoothing: Math.min(0.99, Math.max(0, smoothing)),
    log: v.log === true,
    x: X_AXES.some(a => a.id === v.x) ? (v.x as XAxis) : DEFAULT_PANEL.x,
    collapsed: v.collapsed === true
  };
}

/** A valid layout from anything (a saved one, or nothing): unknown fields are dropped. */
export function sanitizeLayout(value: unknown): IWorkspaceLayout {
  if (!value || typeof value !== 'object') {
    return { ...DEFAULT_LAYOUT };
  }
  const v = value as { [key: string]: unknown };
  const panels: { [key: string]: IPanelSettings } = {};
  if (v.panels && typeof v.panels === 'object') {
    for (const [key, settings] of Object.entries(v.panels as object)) {
      panels[key] = panelOf(settings);
    }
  }
  return {
    order: strings(v.order),
    panels,
    collapsedSections: strings(v.collapsedSections),
    hidden: strings(v.hidden),
    columns: Array.isArray(v.columns) ? strings(v.columns) : [...DEFAULT_LAYOUT.columns],
    groupBy: typeof v.groupBy === 'string' && v.groupBy ? v.groupBy : null,
    collapsedGroups: strings(v.collapsedGroups)
  };
}

/** The settings of the panel of `key` (defaults when it was never changed). */
export function panelSettings(layout: IWorkspaceLayout, key: string): IPanelSettings {
  return layout.panels[key] ?? DEFAULT_PANEL;
}
