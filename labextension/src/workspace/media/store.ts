/**
 * What the workspace's media panels show, fetched on demand and kept: each shown run's media
 * keys (`GET runs/{id}/media`), each (key, run)'s steps, the values of the steps a panel shows
 * (`key=K&step=S`: never more than the steps on screen), a histogram's values over its steps
 * (`all=1`, pages), and the text of blobs (tables, text, HTML, chart specs).
 *
 * Nothing here polls: the workspace model calls `sync` when the shown runs change and
 * `refresh` when the server's change token moved (only while the workspace is visible), and
 * the panels ask for what they show with the `ensure*` calls. Every answer bumps `version` and
 * calls `onChange` (coalesced), so the workspace re-renders once for a burst of answers.
 */
import * as api from '../../api';
import { IMediaKey, IMediaRecord } from '../../tokens';

/** The kinds of rich values (nbtrack.media.values). */
export type MediaKind = 'image' | 'table' | 'histogram' | 'audio' | 'figure' | 'text' | 'html';

/** One panel: a media key and the shown runs that logged it (in the table's order). */
export interface IMediaPanel {
  key: string;
  kind: string;
  runs: string[];
}

/** The steps of one (key, run) at the last look, and the key's size then. */
export interface ITrack {
  steps: number[];
  count: number;
  lastStep: number;
}

/** A (key, run)'s values over steps: the last `HISTORY_ITEMS` at most. */
export interface IHistory {
  items: IMediaRecord[];
  /** The index of `items[0]` among all the key's values. */
  offset: number;
}

/** Requests in flight at once (the others wait). */
const CONCURRENT_REQUESTS = 3;
/** Most values over steps kept for a (key, run) (histograms: counts and edges each). */
export const HISTORY_ITEMS = 2000;
/** Most blob texts kept (a table may be megabytes). */
const TEXT_CACHE = 40;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function pairOf(key: string, run: string): string {
  return `${key}\n${run}`;
}

/** The media panels' data (see the module comment). */
export class MediaStore {
  constructor(private readonly _onChange: () => void) {}

  /** Bumped on every change of what the store holds. */
  get version(): number {
    return this._version;
  }

  /** One panel per media key any of the `shown` runs logged, sorted by key. */
  panels(shown: readonly string[]): IMediaPanel[] {
    const byKey = new Map<string, IMediaPanel>();
    for (const id of shown) {
      for (const info of this._keys.get(id) ?? []) {
        let panel = byKey.get(info.key);
        if (!panel) {
          panel = { key: info.key, kind: info.kind, runs: [] };
          byKey.set(info.key, panel);
        }
        panel.runs.push(id);
      }
    }
    return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  /** What the run's key listing says of `key` (count, first and last step). */
  keyInfo(key: string, run: string): IMediaKey | undefined {
    return this._keys.get(run)?.find(k => k.key === key);
  }

  track(key: string, run: string): ITrack | undefined {
    return this._tracks.get(pairOf(key, run));
  }

  /** The values of `key` the run logged at `step`, if fetched. */
  items(key: string, run: string, step: number): IMediaRecord[] | undefined {
    return this._items.get(`${pairOf(key, run)}\n${step}`);
  }

  history(key: string, run: string): IHistory | undefined {
    return this._histories.get(pairOf(key, run));
  }

  /** A blob's text, if fetched. */
  text(name: string): string | undefined {
    return this._texts.get(name);
  }

  /** The last error fetching something of `key` (null after a success). */
  error(key: string): string | null {
    return this._errors.get(key) ?? null;
  }

  /** List the media keys of shown runs not listed yet. */
  sync(shown: readonly string[]): Promise<void> {
    return Promise.all(
      shown.filter(id => !this._keys.has(id)).map(id => this._loadKeys(id))
    ).then(() => undefined);
  }

  /**
   * The change token moved: list the keys of `live` runs again (and of shown runs not listed
   * yet); the steps and histories held of a key that grew are fetched again.
   */
  refresh(shown: readonly string[], live: readonly string[]): Promise<void> {
    const visible = new Set(shown);
    return Promise.all([
      this.sync(shown),
      ...live.filter(id => visible.has(id) && this._keys.has(id)).map(id => this._loadKeys(id))
    ]).then(() => undefined);
  }

  /** Fetch the steps of `key` for `run` (and its last step's values) unless held. */
  ensureTrack(key: string, run: string): void {
    if (!this._tracks.has(pairOf(key, run))) {
      void this._once(`track\n${pairOf(key, run)}`, () => this._loadTrack(key, run));
    }
  }

  /** Fetch the values of `key` the run logged at `step` unless held. */
  ensureItems(key: string, run: string, step: number): void {
    if (this.items(key, run, step) === undefined) {
      void this._once(`items\n${pairOf(key, run)}\n${step}`, () =>
        this._loadItems(key, run, step)
      );
    }
  }

  /** Fetch the values of `key` over its steps (the last HISTORY_ITEMS) unless held. */
  ensureHistory(key: string, run: string): void {
    if (!this._histories.has(pairOf(key, run))) {
      void this._once(`history\n${pairOf(key, run)}`, () => this._loadHistory(key, run));
    }
  }

  /** Fetch a blob's text unless held (`key`: whose panel shows an error if it fails). */
  ensureText(name: string, key: string): void {
    if (!this._texts.has(name)) {
      void this._once(`text\n${name}`, async () => {
        const text = await this._request(key, () => api.getBlobText(name));
        if (text !== undefined) {
          this._texts.set(name, text);
          while (this._texts.size > TEXT_CACHE) {
            this._texts.delete(this._texts.keys().next().value as string);
          }
          this._changed();
        }
      });
    }
  }

  dispose(): void {
    this._disposed = true;
    clearTimeout(this._notify);
  }

  private async _loadKeys(run: string): Promise<void> {
    await this._once(`keys\n${run}`, async () => {
      const answer = await this._request(null, () => api.getMedia(run));
      if (!answer) {
        return;
      }
      const before = JSON.stringify(this._keys.get(run) ?? null);
      this._keys.set(run, answer.keys);
      if (JSON.stringify(answer.keys) !== before) {
        this._changed();
      }
      // What the panels hold of keys that grew is fetched again (a live run).
      for (const info of answer.keys) {
        const pair = pairOf(info.key, run);
        const track = this._tracks.get(pair);
        if (track && (track.count !== info.count || track.lastStep !== info.last_step)) {
          void this._once(`track\n${pair}`, () => this._loadTrack(info.key, run));
        }
        const history = this._histories.get(pair);
        if (history && history.offset + history.items.length < info.count) {
          void this._once(`history\n${pair}`, () => this._loadHistory(info.key, run));
        }
      }
    });
  }

  private async _loadTrack(key: string, run: string): Promise<void> {
    const answer = await this._request(key, () => api.getMedia(run, { key }));
    if (!answer) {
      return;
    }
    const info = answer.keys.find(k => k.key === key);
    const lastStep = answer.steps[answer.steps.length - 1];
    this._tracks.set(pairOf(key, run), {
      steps: answer.steps,
      count: info?.count ?? answer.items.length,
      lastStep
    });
    if (lastStep !== undefined) {
      this._items.set(`${pairOf(key, run)}\n${lastStep}`, answer.items);
    }
    this._changed();
  }

  private async _loadItems(key: string, run: string, step: number): Promise<void> {
    const answer = await this._request(key, () => api.getMedia(run, { key, step }));
    if (answer) {
      this._items.set(`${pairOf(key, run)}\n${step}`, answer.items);
      this._changed();
    }
  }

  /** The last HISTORY_ITEMS values, or those after the ones held (pages of MAX_MEDIA_ITEMS). */
  private async _loadHistory(key: string, run: string): Promise<void> {
    const pair = pairOf(key, run);
    const held = this._histories.get(pair);
    const count = this.keyInfo(key, run)?.count ?? 0;
    let offset = held ? held.offset + held.items.length : Math.max(0, count - HISTORY_ITEMS);
    const start = held ? held.offset : offset;
    const items = held ? [...held.items] : [];
    for (;;) {
      const answer = await this._request(key, () =>
        api.getMedia(run, { key, all: true, offset, limit: api.MAX_MEDIA_ITEMS })
      );
      if (!answer) {
        return;
      }
      items.push(...answer.items);
      offset += answer.items.length;
      if (answer.items.length < api.MAX_MEDIA_ITEMS) {
        break;
      }
    }
    const drop = Math.max(0, items.length - HISTORY_ITEMS);
    this._histories.set(pair, { items: items.slice(drop), offset: start + drop });
    this._changed();
  }

  /** Run `load` unless the same `id` is on its way; answer the promise of the one running. */
  private _once(id: string, load: () => Promise<void>): Promise<void> {
    let running = this._inflight.get(id);
    if (!running) {
      running = load().finally(() => this._inflight.delete(id));
      this._inflight.set(id, running);
    }
    return running;
  }

  /** One request in a free slot; its error is kept for `key`'s panel (undefined answered). */
  private async _request<T>(key: string | null, call: () => Promise<T>): Promise<T | undefined> {
    await this._slot();
    try {
      if (this._disposed) {
        return undefined;
      }
      const answer = await call();
      if (key !== null && this._errors.delete(key)) {
        this._changed();
      }
      return this._disposed ? undefined : answer;
    } catch (error) {
      if (key !== null) {
        this._errors.set(key, message(error));
        this._changed();
      } else {
        console.warn('nbtrack: could not list media keys', error);
      }
      return undefined;
    } finally {
      this._release();
    }
  }

  private _slot(): Promise<void> {
    if (this._active < CONCURRENT_REQUESTS) {
      this._active++;
      return Promise.resolve();
    }
    return new Promise(resolve => this._waiting.push(resolve));
  }

  private _release(): void {
    const next = this._waiting.shift();
    if (next) {
      next();
    } else {
      this._active--;
    }
  }

  /** Announce a change once for every burst of answers. */
  private _changed(): void {
    this._version++;
    if (this._notify === undefined && !this._disposed) {
      this._notify = setTimeout(() => {
        this._notify = undefined;
        if (!this._disposed) {
          this._onChange();
        }
      }, 0);
    }
  }

  private _version = 0;
  private _disposed = false;
  private _notify: ReturnType<typeof setTimeout> | undefined = undefined;
  private _keys = new Map<string, IMediaKey[]>();
  private _tracks = new Map<string, ITrack>();
  private _items = new Map<string, IMediaRecord[]>();
  private _histories = new Map<string, IHistory>();
  private _texts = new Map<string, string>();
  private _errors = new Map<string, string>();
  private _inflight = new Map<string, Promise<void>>();
  private _active = 0;
  private _waiting: (() => void)[] = [];
}
