/**
 * State of the Runs sidebar: the loaded page of runs, sort, filter, selection, chart options,
 * the open run and the open diff. A `Poll` asks the server's change token every second and
 * refetches only what is shown, only when the token changed; it backs off on errors and
 * stands by while the panel (or the browser tab) is hidden.
 */
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import * as api from './api';
import { IRunDetail, IRunDiffRecord, IRunRecord, IRunUpdate } from './tokens';

/** What the lower half of the panel shows. */
export type ViewTab = 'chart' | 'diff' | 'run';

export type SortOrder = 'asc' | 'desc';

/** Runs fetched per page ("Load more" fetches the next one). */
export const PAGE_SIZE = 50;
/** The most runs one refresh refetches (the server's page limit). */
const MAX_REFETCH = 1000;
/** How often the change token is checked while the panel is visible (ms). */
export const POLL_INTERVAL = 1000;
/** Most points per curve in the sidebar chart. */
const CHART_POINTS = 800;

/** Does the filter text look like the filter language (`params.lr < 0.1 and ...`)? */
export function isExpression(text: string): boolean {
  return /[=<>~]|\s(and|or)\s/i.test(text);
}

/** A Vega-Lite spec as the server sends it. */
export type ChartSpec = { [key: string]: unknown };

/** Everything the panel renders; replaced (not mutated) on each change. */
export interface IRunsState {
  runs: IRunRecord[];
  total: number;
  loadingRuns: boolean;
  runsError: string | null;
  sort: string;
  order: SortOrder;
  filter: string;
  selected: string[];
  metricKeys: string[];
  paramKeys: string[];
  metric: string | null;
  logScale: boolean;
  smoothing: number;
  chart: ChartSpec | null;
  chartError: string | null;
  chartLoading: boolean;
  openRunId: string | null;
  openRun: IRunDetail | null;
  runError: string | null;
  diff: IRunDiffRecord | null;
  diffError: string | null;
  diffRuns: string[];
  tab: ViewTab;
  /** Set while the server cannot be reached (the poll is backing off). */
  offline: string | null;
  version: string | null;
  /** Artifact names, registered models and sweeps in the workspace (null: not known). */
  artifactCount: number | null;
  modelCount: number | null;
  sweepCount: number | null;
}

const INITIAL: IRunsState = {
  runs: [],
  total: 0,
  loadingRuns: true,
  runsError: null,
  sort: 'started',
  order: 'desc',
  filter: '',
  selected: [],
  metricKeys: [],
  paramKeys: [],
  metric: null,
  logScale: false,
  smoothing: 0,
  chart: null,
  chartError: null,
  chartLoading: false,
  openRunId: null,
  openRun: null,
  runError: null,
  diff: null,
  diffError: null,
  diffRuns: [],
  tab: 'chart',
  offline: null,
  version: null,
  artifactCount: null,
  modelCount: null,
  sweepCount: null
};

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The sidebar's state and the calls that change it. */
export class RunsModel {
  constructor() {
    this._poll = new Poll({
      name: 'nbtrack:status',
      factory: () => this._tick(),
      frequency: { interval: POLL_INTERVAL, backoff: true, max: 30 * 1000 },
      standby: () => !this._visible || 'when-hidden'
    });
  }

  /** Emitted after every state change. */
  get stateChanged(): ISignal<this, void> {
    return this._stateChanged;
  }

  get state(): IRunsState {
    return this._state;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The panel became visible or hidden: the poll runs only while it is visible. */
  setVisible(visible: boolean): void {
    this._visible = visible;
    if (visible) {
      void this._poll.refresh();
    }
  }

  /** Refetch everything shown now, whatever the change token says. */
  async refresh(): Promise<void> {
    this._token = null;
    await this._poll.refresh();
  }

  /** Sort by a column; the same column again flips the order. */
  setSort(sort: string): void {
    const order: SortOrder =
      sort === this._state.sort ? (this._state.order === 'desc' ? 'asc' : 'desc') : 'desc';
    this._set({ sort, order });
    void this._loadRuns('reset');
  }

  /** The filter box: a search text, or a filter expression (sent as `where`). */
  setFilter(filter: string): void {
    this._set({ filter });
    clearTimeout(this._filterTimer);
    this._filterTimer = setTimeout(() => void this._loadRuns('reset'), 300);
  }

  /** Fetch the next page of runs and append it (once: ignored while runs are loading). */
  async loadMore(): Promise<void> {
    if (this._state.loadingRuns || this._state.runs.length >= this._state.total) {
      return;
    }
    await this._loadRuns('more');
  }

  toggleSelected(id: string): void {
    const selected = this._state.selected.includes(id)
      ? this._state.selected.filter(s => s !== id)
      : [...this._state.selected, id];
    this._set({ selected, tab: 'chart' });
    this._scheduleChart();
  }

  /** Select every loaded run, or none when all are selected already. */
  toggleAll(): void {
    const ids = this._state.runs.map(r => r.id);
    const all = ids.length > 0 && ids.every(id => this._state.selected.includes(id));
    this._set({ selected: all ? [] : ids, tab: 'chart' });
    this._scheduleChart();
  }

  clearSelection(): void {
    this._set({ selected: [] });
    this._scheduleChart();
  }

  setMetric(metric: string): void {
    this._set({ metric });
    this._scheduleChart();
  }

  setLogScale(logScale: boolean): void {
    this._set({ logScale });
    this._scheduleChart();
  }

  setSmoothing(smoothing: number): void {
    this._set({ smoothing: Math.min(0.99, Math.max(0, smoothing)) });
    this._scheduleChart(250);
  }

  setTab(tab: ViewTab): void {
    this._set({ tab });
  }

  /** Show one run's details. */
  async openRun(id: string): Promise<void> {
    this._set({ openRunId: id, tab: 'run', runError: null });
    await this._loadRun();
  }

  closeRun(): void {
    this._set({ openRunId: null, openRun: null, runError: null, tab: 'chart' });
  }

  /** Compare the selected runs (cells and variables: first selected against last). */
  async showDiff(): Promise<void> {
    this._set({ diffRuns: [...this._state.selected], tab: 'diff', diffError: null });
    await this._loadDiff();
  }

  async updateRun(id: string, update: IRunUpdate): Promise<void> {
    await api.updateRun(id, update);
    await this.refresh();
  }

  async deleteRun(id: string): Promise<void> {
    await api.deleteRun(id);
    const selected = this._state.selected.filter(s => s !== id);
    this._set({ selected });
    if (this._state.openRunId === id) {
      this.closeRun();
    }
    await this.refresh();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    clearTimeout(this._filterTimer);
    clearTimeout(this._chartTimer);
    this._poll.dispose();
    Signal.clearData(this);
  }

  /** One poll: compare the change token, refetch what is shown when it moved. */
  private async _tick(): Promise<void> {
    let status;
    try {
      status = await api.getStatus();
    } catch (error) {
      this._set({ offline: message(error) });
      throw error; // the poll backs off
    }
    if (this._state.offline || this._state.version !== status.version) {
      this._set({ offline: null, version: status.version });
    }
    if (status.change_token === this._token) {
      return;
    }
    this._token = status.change_token;
    await Promise.all([
      this._loadRuns('refresh'),
      this._loadKeys(),
      this._state.openRunId ? this._loadRun() : null,
      this._state.diffRuns.length > 1 ? this._loadDiff() : null,
      this._loadCounts()
    ]);
    await this._loadChart();
  }

  /**
   * Fetch runs: `reset` the first page (new sort or filter), `refresh` as many as are loaded
   * (new data), or one page `more`.
   *
   * A newer reset or refresh wins over older ones and over a "load more" started before it;
   * a "load more" never drops their answer.
   */
  private async _loadRuns(mode: 'reset' | 'refresh' | 'more'): Promise<void> {
    const append = mode === 'more';
    const request = append ? this._runsRequest : ++this._runsRequest;
    const { sort, order, filter } = this._state;
    const text = filter.trim();
    const offset = append ? this._state.runs.length : 0;
    const limit =
      mode === 'refresh'
        ? Math.min(MAX_REFETCH, Math.max(PAGE_SIZE, this._state.runs.length))
        : PAGE_SIZE;
    this._set({ loadingRuns: true });
    try {
      const page = await api.getRuns({
        limit,
        offset,
        sort,
        order,
        ...(isExpression(text) ? { where: text } : { q: text })
      });
      if (request !== this._runsRequest) {
        return;
      }
      const runs = append ? [...this._state.runs, ...page.runs] : page.runs;
      this._set({ runs, total: page.total, loadingRuns: false, runsError: null });
    } catch (error) {
      if (request === this._runsRequest) {
        this._set({ loadingRuns: false, runsError: message(error) });
      }
    }
  }

  private async _loadKeys(): Promise<void> {
    try {
      const keys = await api.getKeys();
      let metric = this._state.metric;
      if (!metric || !keys.metrics.includes(metric)) {
        metric = keys.metrics.includes('loss') ? 'loss' : (keys.metrics[0] ?? null);
      }
      this._set({ metricKeys: keys.metrics, paramKeys: keys.params, metric });
    } catch (error) {
      console.warn('nbtrack: could not list metric keys', error);
    }
  }

  /** How many artifacts and registered models there are (a 404: no registry, 0 models). */
  private async _loadCounts(): Promise<void> {
    const [artifacts, models, sweeps] = await Promise.allSettled([
      api.getArtifacts(),
      api.getModels(),
      api.getSweeps()
    ]);
    this._set({
      artifactCount: artifacts.status === 'fulfilled' ? artifacts.value.artifacts.length : null,
      modelCount:
        models.status === 'fulfilled'
          ? models.value.models.length
          : models.reason instanceof api.APIError && models.reason.status === 404
            ? 0
            : null,
      sweepCount: sweeps.status === 'fulfilled' ? sweeps.value.sweeps.length : null
    });
  }

  private async _loadRun(): Promise<void> {
    const id = this._state.openRunId;
    if (!id) {
      return;
    }
    const request = ++this._runRequest;
    try {
      const openRun = await api.getRun(id);
      if (request === this._runRequest && this._state.openRunId === id) {
        this._set({ openRun, runError: null });
      }
    } catch (error) {
      if (request === this._runRequest) {
        this._set({ runError: message(error) });
      }
    }
  }

  private async _loadDiff(): Promise<void> {
    const runs = this._state.diffRuns;
    if (runs.length < 2) {
      return;
    }
    const request = ++this._diffRequest;
    try {
      const diff = await api.getDiff(runs);
      if (request === this._diffRequest) {
        this._set({ diff, diffError: null });
      }
    } catch (error) {
      if (request === this._diffRequest) {
        this._set({ diffError: message(error) });
      }
    }
  }

  private _scheduleChart(delay = 50): void {
    clearTimeout(this._chartTimer);
    this._chartTimer = setTimeout(() => void this._loadChart(), delay);
  }

  private async _loadChart(): Promise<void> {
    const { selected, metric, logScale, smoothing } = this._state;
    const request = ++this._chartRequest;
    if (!selected.length || !metric) {
      this._set({ chart: null, chartError: null, chartLoading: false });
      return;
    }
    this._set({ chartLoading: true });
    try {
      const response = await api.getChart({
        runs: selected,
        key: metric,
        log: logScale,
        smoothing,
        maxPoints: CHART_POINTS
      });
      if (request === this._chartRequest) {
        this._set({ chart: response.spec, chartError: null, chartLoading: false });
      }
    } catch (error) {
      if (request === this._chartRequest) {
        this._set({ chartError: message(error), chartLoading: false });
      }
    }
  }

  private _set(change: Partial<IRunsState>): void {
    if (this._isDisposed) {
      return;
    }
    this._state = { ...this._state, ...change };
    this._stateChanged.emit();
  }

  private _state: IRunsState = INITIAL;
  private _stateChanged = new Signal<this, void>(this);
  private _poll: Poll;
  private _visible = false;
  private _token: string | null = null;
  private _isDisposed = false;
  private _runsRequest = 0;
  private _runRequest = 0;
  private _diffRequest = 0;
  private _chartRequest = 0;
  private _filterTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _chartTimer: ReturnType<typeof setTimeout> | undefined = undefined;
}
