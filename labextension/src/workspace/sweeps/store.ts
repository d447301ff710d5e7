/**
 * The data of the workspace's Sweeps view: the sweeps list and the selected sweep's detail
 * (space, best trial, trials, importances).
 *
 * It does not poll on its own: the workspace's poll (workspace/model.ts) calls `load` when the
 * server's change token moved while the view is shown (every trial is a run, so a trial ending
 * moves it) and when the user switches to it; `stale` tells the poll when to look again anyway
 * (workers elsewhere add trials to a shared storage without touching this store). Every answer
 * is kept only if no newer request for the same thing was made.
 */
import * as api from '../../api';
import { ISweepDetail, ISweepSummary } from '../../tokens';

/** Reload the shown sweep at least this often, whatever the change token says (ms). */
export const SWEEPS_MAX_AGE = 10_000;

export interface ISweepsState {
  sweeps: ISweepSummary[];
  /** Whether the list was fetched once. */
  sweepsLoaded: boolean;
  sweepsError: string | null;
  selected: string | null;
  detail: ISweepDetail | null;
  detailError: string | null;
}

export const INITIAL_SWEEPS: ISweepsState = {
  sweeps: [],
  sweepsLoaded: false,
  sweepsError: null,
  selected: null,
  detail: null,
  detailError: null
};

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class SweepStore {
  /** `onChange` is called after every change of `state`. */
  constructor(private readonly _onChange: () => void) {}

  get state(): ISweepsState {
    return this._state;
  }

  /** Whether the last load is older than `SWEEPS_MAX_AGE`. */
  get stale(): boolean {
    return Date.now() - this._loadedAt > SWEEPS_MAX_AGE;
  }

  /** Fetch the list and the selected sweep. */
  async load(): Promise<void> {
    this._loadedAt = Date.now();
    await Promise.all([this._loadList(), this._loadDetail()]);
  }

  /** Select a sweep (its detail is fetched). */
  async select(name: string): Promise<void> {
    const same = name === this._state.selected;
    this._set({ selected: name, detail: same ? this._state.detail : null, detailError: null });
    await this._loadDetail();
  }

  private async _loadList(): Promise<void> {
    const request = ++this._requests.list;
    try {
      const answer = await api.getSweeps();
      if (request !== this._requests.list) {
        return;
      }
      this._set({ sweeps: answer.sweeps, sweepsLoaded: true, sweepsError: null });
      // The only sweep, or the newest one, is shown without a click.
      if (!this._state.selected && answer.sweeps.length) {
        const first = answer.sweeps.find(s => !s.error) ?? answer.sweeps[0];
        void this.select(first.name);
      }
    } catch (error) {
      if (request === this._requests.list) {
        this._set({ sweepsLoaded: true, sweepsError: message(error) });
      }
    }
  }

  private async _loadDetail(): Promise<void> {
    const name = this._state.selected;
    if (!name) {
      return;
    }
    const request = ++this._requests.detail;
    try {
      const detail = await api.getSweep(name);
      if (request === this._requests.detail && this._state.selected === name) {
        this._set({ detail, detailError: null });
      }
    } catch (error) {
      if (request === this._requests.detail) {
        this._set({ detail: null, detailError: message(error) });
      }
    }
  }

  private _set(change: Partial<ISweepsState>): void {
    this._state = { ...this._state, ...change };
    this._onChange();
  }

  private _state: ISweepsState = INITIAL_SWEEPS;
  private _requests = { list: 0, detail: 0 };
  private _loadedAt = 0;
}
