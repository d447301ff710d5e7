/**
 * State of the Runs workspace: the runs (sorted, filtered), the metric keys, the layout, and
 * the series the chart panels draw.
 *
 * Series are fetched with the batch endpoint (`GET metrics`, many runs x keys per request),
 * and only for the keys of panels that have been scrolled into view (`want`). A `Poll` checks
 * the server's change token every second while the workspace is visible and stands by while
 * it is hidden; when the token moves it refetches the runs, then only the new points of
 * running runs (`after_steps`) and the series of runs it has not seen yet.
 *
 * Media (images, tables, histograms...) live in `media` (a `MediaStore`): the same poll lists
 * the media keys of the shown runs once, and again for running runs when the token moves.
 * The Artifacts and Models views' data live in `artifacts` (an `ArtifactStore`), refetched by
 * the same poll while one of those views is shown; the Sweeps view's in `sweeps` (a
 * `SweepStore`), likewise.
 */
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import * as api from '../api';
import { isExpression } from '../model';
import { IMetricSeries, IRunRecord } from '../tokens';
import { ArtifactStore } from './artifacts/store';
import { DEFAULT_LAYOUT, IWorkspaceLayout } from './layout';
import { MediaStore } from './media/store';
import { SweepStore } from './sweeps/store';
import { appended, fromWire, ISeriesData } from './series';

/** How often the change token is checked while the workspace is visible (ms). */
export const POLL_INTERVAL = 1000;
/** The most runs the workspace lists (the server's page limit). */
export const RUNS_LIMIT = 1000;
/** Most points per curve (each bucket keeps its lowest and highest: spikes stay visible). */
export const MAX_POINTS = 300;
/**
 * Keys per first request, and requests in flight at once: the server answers one request
 * with many runs quickly, and several at once only share its time; the panels in view
 * first are asked for first, so the first charts paint without waiting for the others.
 */
const KEYS_PER_REQUEST = 1;
const CONCURRENT_REQUESTS = 2;
/** A live curve grown beyond this many points is fetched again, reduced. */
const REFETCH_AT = 4 * MAX_POINTS;
/** The server's cap on runs x keys x points per request (responses.MAX_BATCH_POINTS). */
const MAX_BATCH_POINTS = 4_000_000;

export type SortOrder = 'asc' | 'desc';

/** What the workspace shows: the runs and their charts, the artifacts, the models, the sweeps. */
export type WorkspaceView = 'runs' | 'artifacts' | 'models' | 'sweeps';
export const WORKSPACE_VIEWS: WorkspaceView[] = ['runs', 'artifacts', 'models', 'sweeps'];

export interface IWorkspaceState {
  runs: IRunRecord[];
  total: number;
  loadingRuns: boolean;
  runsError: string | null;
  sort: string;
  order: SortOrder;
  filter: string;
  metricKeys: string[];
  paramKeys: string[];
  layout: IWorkspaceLayout;
  /** Bumped for a key whenever its series change (panels redraw on it). */
  versions: { [key: string]: number };
  /** Keys whose series are being fetched for the first time. */
  loading: string[];
  seriesError: string | null;
  offline: string | null;
  /** Whether the workspace has loaded the runs and keys once. */
  ready: boolean;
  /** Bumped whenever the media store's data changed (media panels redraw on it). */
  mediaVersion: number;
  view: WorkspaceView;
  /** Bumped whenever the artifact store's data changed. */
  artifactsVersion: number;
  /** Bumped whenever the sweep store's data changed. */
  sweepsVersion: number;
}

const INITIAL: IWorkspaceState = {
  runs: [],
  total: 0,
  loadingRuns: true,
  runsError: null,
  sort: 'started',
  order: 'desc',
  filter: '',
  metricKeys: [],
  paramKeys: [],
  layout: DEFAULT_LAYOUT,
  versions: {},
  loading: [],
  seriesError: null,
  offline: null,
  ready: false,
  mediaVersion: 0,
  view: 'runs',
  artifactsVersion: 0,
  sweepsVersion: 0
};

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

/** The workspace's state and the calls that change it. */
export class WorkspaceModel {
  constructor() {
    this._poll = new Poll({
      name: 'nbtrack:workspace',
      factory: () => this._tick(),
      frequency: { interval: POLL_INTERVAL, backoff: true, max: 30 * 1000 },
      standby: () => !this._visible || 'when-hidden'
    });
  }

  /** The media panels' data (fetched only while the workspace is visible). */
  readonly media = new MediaStore(() => this._set({ mediaVersion: this.media.version }));

  /** The Artifacts and Models views' data (fetched only while one of them is shown). */
  readonly artifacts = new ArtifactStore(() =>
    this._set({ artifactsVersion: this._state.artifactsVersion + 1 })
  );

  /** The Sweeps view's data (fetched only while it is shown). */
  readonly sweeps = new SweepStore(() =>
    this._set({ sweepsVersion: this._state.sweepsVersion + 1 })
  );

  /** Emitted after every state change. */
  get stateChanged(): ISignal<this, void> {
    return this._stateChanged;
  }

  /** Emitted when the layout changes (to save it). */
  get layoutChanged(): ISignal<this, IWorkspaceLayout> {
    return this._layoutChanged;
  }

  get state(): IWorkspaceState {
    return this._state;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** How many status polls ran (for tests and the benchmark: none while hidden). */
  get polls(): number {
    return this._polls;
  }

  /** The series of `key` held now, by run id. */
  seriesOf(key: string): ReadonlyMap<string, ISeriesData> {
    return this._series.get(key) ?? EMPTY;
  }

  /** The workspace became visible or hidden: the poll runs only while it is visible. */
  setVisible(visible: boolean): void {
    this._visible = visible;
    if (visible) {
      void this.media.sync(this._shownRuns());
      void this._poll.refresh();
    }
  }

  /** Refetch everything shown now, whatever the change token says. */
  async refresh(): Promise<void> {
    this._token = null;
    await this._poll.refresh();
  }

  /** Show the runs, the artifacts, the models or the sweeps. */
  setView(view: WorkspaceView): void {
    if (view === this._state.view) {
      return;
    }
    this._set({ view });
    this._loadView(view);
  }

  /** Restore a saved layout (does not announce it as a change to save). */
  restoreLayout(layout: IWorkspaceLayout): void {
    this._set({ layout });
    this._scheduleFetch();
  }

  /** Change the layout and announce it (it is saved). */
  updateLayout(change: Partial<IWorkspaceLayout>): void {
    const layout = { ...this._state.layout, ...change };
    this._set({ layout });
    this._layoutChanged.emit(layout);
    if ('hidden' in change) {
      this._scheduleFetch(); // a run shown again may need its series
    }
  }

  setSort(sort: string): void {
    const order: SortOrder =
      sort === this._state.sort ? (this._state.order === 'desc' ? 'asc' : 'desc') : 'desc';
    this._set({ sort, order });
    void this._loadRuns();
  }

  setFilter(filter: string): void {
    this._set({ filter });
    clearTimeout(this._filterTimer);
    this._filterTimer = setTimeout(() => void this._loadRuns(), 300);
  }

  /** A panel came into view: fetch its key's series (once; then live updates keep it). */
  want(key: string): void {
    if (!this._wanted.has(key)) {
      this._wanted.add(key);
      this._scheduleFetch();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    clearTimeout(this._filterTimer);
    this._poll.dispose();
    this.media.dispose();
    Signal.clearData(this);
  }

  /** One poll: when the change token moved, the runs, keys, then what changed of the series. */
  private async _tick(): Promise<void> {
    this._polls++;
    let status;
    try {
      status = await api.getStatus();
    } catch (error) {
      this._set({ offline: message(error) });
      throw error; // the poll backs off
    }
    if (this._state.offline) {
      this._set({ offline: null });
    }
    if (status.change_token === this._token) {
      if (this._state.view === 'sweeps' && this.sweeps.stale) {
        void this.sweeps.load(); // trials a worker elsewhere added to a shared storage
      }
      return;
    }
    this._token = status.change_token;
    this._loadView(this._state.view);
    const wasRunning = new Set(this._state.runs.filter(r => r.status === 'running').map(r => r.id));
    await Promise.all([this._loadRuns(), this._loadKeys()]);
    // Runs running now, or running at the last look (their last points), grow.
    const live = this._state.runs.filter(r => r.status === 'running' || wasRunning.has(r.id));
    await Promise.all([
      this._fetchMissing(),
      this._fetchNew(live.map(r => r.id)),
      this.media.refresh(this._shownRuns(), live.map(r => r.id))
    ]);
  }

  /** Fetch what a view other than the runs shows. */
  private _loadView(view: WorkspaceView): void {
    if (view === 'sweeps') {
      void this.sweeps.load();
    } else if (view !== 'runs') {
      void this.artifacts.load(view);
    }
  }

  private async _loadRuns(): Promise<void> {
    const request = ++this._runsRequest;
    const { sort, order, filter } = this._state;
    const text = filter.trim();
    this._set({ loadingRuns: true });
    try {
      const page = await api.getRuns({
        limit: RUNS_LIMIT,
        sort,
        order,
        ...(isExpression(text) ? { where: text } : { q: text })
      });
      if (request !== this._runsRequest) {
        return;
      }
      this._set({ runs: page.runs, total: page.total, loadingRuns: false, runsError: null });
      this._scheduleFetch(); // runs not seen before need their series
    } catch (error) {
      if (request === this._runsRequest) {
        this._set({ loadingRuns: false, runsError: message(error) });
      }
    }
  }

  private async _loadKeys(): Promise<void> {
    try {
      const keys = await api.getKeys();
      this._set({ metricKeys: keys.metrics, paramKeys: keys.params, ready: true });
    } catch (error) {
      console.warn('nbtrack: could not list metric keys', error);
    }
  }

  /** Run ids whose curves the charts show: listed and not hidden. */
  private _shownRuns(): string[] {
    const hidden = new Set(this._state.layout.hidden);
    return this._state.runs.filter(r => !hidden.has(r.id)).map(r => r.id);
  }

  private _scheduleFetch(): void {
    if (this._fetchScheduled) {
      return;
    }
    this._fetchScheduled = true;
    // Collect the panels that came into view in the same frame into one round of requests.
    setTimeout(() => {
      this._fetchScheduled = false;
      void this._fetchMissing();
      if (this._visible) {
        void this.media.sync(this._shownRuns()); // shown runs whose media keys are not listed
      }
    }, 0);
  }

  /** Fetch the series of wanted keys for shown runs that have none yet (nor one on the way). */
  private async _fetchMissing(): Promise<void> {
    const runs = this._shownRuns();
    const requests: Promise<void>[] = [];
    const byRuns = new Map<string, string[]>(); // the runs missing, as a key: the keys
    for (const key of this._wanted) {
      const have = this._series.get(key);
      const missing = runs.filter(id => !have?.has(id) && !this._inflight.has(`${key}\n${id}`));
      if (missing.length) {
        const group = missing.join(',');
        byRuns.set(group, [...(byRuns.get(group) ?? []), key]);
      }
    }
    for (const [group, keys] of byRuns) {
      const ids = group.split(',');
      for (const keyChunk of chunks(keys, KEYS_PER_REQUEST)) {
        for (const runChunk of chunks(ids, this._runsPerRequest(keyChunk.length))) {
          requests.push(this._fetch(keyChunk, runChunk, null));
        }
      }
    }
    await Promise.all(requests);
  }

  /** Fetch the points of live runs after the last step held, for every key they have. */
  private async _fetchNew(live: string[]): Promise<void> {
    const keys = [...this._wanted].filter(key => this._series.has(key));
    const shown = new Set(this._shownRuns());
    const ids = live.filter(id => shown.has(id));
    if (!keys.length || !ids.length) {
      return;
    }
    const requests: Promise<void>[] = [];
    for (const keyChunk of chunks(keys, api.MAX_BATCH_KEYS)) {
      for (const runChunk of chunks(ids, this._runsPerRequest(keyChunk.length))) {
        // One step per run: the earliest last step over the keys (later points repeat and
        // `appended` drops them).
        const after = runChunk.map(id => {
          let step: number | null = null;
          for (const key of keyChunk) {
            const data = this._series.get(key)?.get(id);
            const last = data?.step.length ? data.step[data.step.length - 1] : null;
            if (last === null) {
              return null;
            }
            step = step === null ? last : Math.min(step, last);
          }
          return step;
        });
        requests.push(this._fetch(keyChunk, runChunk, after));
      }
    }
    await Promise.all(requests);
  }

  private _runsPerRequest(keys: number): number {
    return Math.max(
      1,
      Math.min(api.MAX_BATCH_RUNS, Math.floor(MAX_BATCH_POINTS / (keys * MAX_POINTS)))
    );
  }

  /** One batch request; whole series (`after` null) replace, new points append. */
  private async _fetch(keys: string[], runs: string[], after: (number | null)[] | null): Promise<void> {
    const pairs = keys.flatMap(key => runs.map(id => `${key}\n${id}`));
    pairs.forEach(pair => this._inflight.add(pair));
    const first = keys.filter(key => !this._series.has(key));
    if (first.length) {
      this._set({ loading: [...new Set([...this._state.loading, ...first])] });
    }
    await this._slot();
    try {
      const answer = await api.getMetricsBatch(runs, keys, {
        maxPoints: MAX_POINTS,
        afterSteps: after ?? undefined
      });
      this._store(answer.series, after !== null);
      if (this._state.seriesError) {
        this._set({ seriesError: null });
      }
    } catch (error) {
      // A run deleted meanwhile (404) and the like: shown once; the next change retries.
      this._set({ seriesError: message(error) });
    } finally {
      this._release();
      pairs.forEach(pair => this._inflight.delete(pair));
      if (first.length) {
        this._set({ loading: this._state.loading.filter(key => !first.includes(key)) });
      }
    }
  }

  /** Wait for a free request slot (first come, first served). */
  private _slot(): Promise<void> {
    if (this._active < CONCURRENT_REQUESTS) {
      this._active++;
      return Promise.resolve();
    }
    return new Promise(resolve => this._waiting.push(resolve));
  }

  /** Hand the slot to the next waiting request, or free it. */
  private _release(): void {
    const next = this._waiting.shift();
    if (next) {
      next();
    } else {
      this._active--;
    }
  }

  private _store(series: IMetricSeries[], append: boolean): void {
    const versions = { ...this._state.versions };
    const changed = new Set<string>();
    for (const s of series) {
      let byRun = this._series.get(s.key);
      if (!byRun) {
        byRun = new Map();
        this._series.set(s.key, byRun);
        changed.add(s.key);
      }
      const held = byRun.get(s.run_id);
      if (append && held) {
        const grown = appended(held, s);
        if (grown !== held) {
          if (grown.step.length > REFETCH_AT) {
            byRun.delete(s.run_id); // too long now: fetched again, reduced
            this._scheduleFetch();
          } else {
            byRun.set(s.run_id, grown);
          }
          changed.add(s.key);
        }
      } else {
        byRun.set(s.run_id, fromWire(s));
        changed.add(s.key);
      }
    }
    if (changed.size) {
      for (const key of changed) {
        versions[key] = (versions[key] ?? 0) + 1;
      }
      this._set({ versions });
    }
  }

  private _set(change: Partial<IWorkspaceState>): void {
    if (this._isDisposed) {
      return;
    }
    this._state = { ...this._state, ...change };
    this._stateChanged.emit();
  }

  private _state: IWorkspaceState = INITIAL;
  private _stateChanged = new Signal<this, void>(this);
  private _layoutChanged = new Signal<this, IWorkspaceLayout>(this);
  private _poll: Poll;
  private _visible = false;
  private _polls = 0;
  private _token: string | null = null;
  private _isDisposed = false;
  private _runsRequest = 0;
  private _wanted = new Set<string>();
  private _series = new Map<string, Map<string, ISeriesData>>();
  private _inflight = new Set<string>();
  private _fetchScheduled = false;
  private _active = 0;
  private _waiting: (() => void)[] = [];
  private _filterTimer: ReturnType<typeof setTimeout> | undefined = undefined;
}

const EMPTY: ReadonlyMap<string, ISeriesData> = new Map();
