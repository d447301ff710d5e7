/**
 * The data of the workspace's Artifacts and Models views: the artifacts list, the selected
 * artifact's versions, the selected version's lineage graph, the registered models and the
 * selected model's versions.
 *
 * It does not poll on its own: the workspace's poll (workspace/model.ts) calls `refresh` when
 * the server's change token moved while one of these views is shown, and `load` when the user
 * switches to one. Every answer is kept only if no newer request for the same thing was made.
 */
import * as api from '../../api';
import {
  IArtifactDetail,
  IArtifactSummary,
  ILineage,
  IModelDetail,
  IModelSummary
} from '../../tokens';

export interface IArtifactsState {
  artifacts: IArtifactSummary[];
  /** Whether the list was fetched once. */
  artifactsLoaded: boolean;
  artifactsError: string | null;
  /** The selected artifact name, its versions and the selected version (`vN`). */
  selected: string | null;
  detail: IArtifactDetail | null;
  detailError: string | null;
  version: string | null;
  lineage: ILineage | null;
  lineageError: string | null;
  models: IModelSummary[];
  modelsLoaded: boolean;
  modelsError: string | null;
  selectedModel: string | null;
  model: IModelDetail | null;
  modelError: string | null;
}

export const INITIAL_ARTIFACTS: IArtifactsState = {
  artifacts: [],
  artifactsLoaded: false,
  artifactsError: null,
  selected: null,
  detail: null,
  detailError: null,
  version: null,
  lineage: null,
  lineageError: null,
  models: [],
  modelsLoaded: false,
  modelsError: null,
  selectedModel: null,
  model: null,
  modelError: null
};

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isNotFound(error: unknown): boolean {
  return error instanceof api.APIError && error.status === 404;
}

/** Which of the two views to fetch for. */
export type ArtifactsView = 'artifacts' | 'models';

export class ArtifactStore {
  /** `onChange` is called after every change of `state`. */
  constructor(private readonly _onChange: () => void) {}

  get state(): IArtifactsState {
    return this._state;
  }

  /** Fetch what `view` shows (the list, and the selection's details). */
  async load(view: ArtifactsView): Promise<void> {
    if (view === 'artifacts') {
      await Promise.all([this._loadArtifacts(), this._loadDetail(), this._loadLineage()]);
    } else {
      await Promise.all([this._loadModels(), this._loadModel()]);
    }
  }

  /** Select an artifact (and its newest version, or `version`). */
  async select(name: string, version?: string): Promise<void> {
    const same = name === this._state.selected;
    this._set({
      selected: name,
      detail: same ? this._state.detail : null,
      detailError: null,
      version: version ?? (same ? this._state.version : null),
      lineage: null,
      lineageError: null
    });
    await this._loadDetail();
    await this._loadLineage();
  }

  /** Select a version (`vN`) of the selected artifact. */
  async selectVersion(version: string): Promise<void> {
    this._set({ version, lineage: null, lineageError: null });
    await this._loadLineage();
  }

  /** Select a registered model. */
  async selectModel(name: string): Promise<void> {
    this._set({ selectedModel: name, model: null, modelError: null });
    await this._loadModel();
  }

  private async _loadArtifacts(): Promise<void> {
    const request = ++this._requests.list;
    try {
      const answer = await api.getArtifacts();
      if (request === this._requests.list) {
        this._set({ artifacts: answer.artifacts, artifactsLoaded: true, artifactsError: null });
      }
    } catch (error) {
      if (request === this._requests.list) {
        this._set({ artifactsLoaded: true, artifactsError: message(error) });
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
      const detail = await api.getArtifact(name);
      if (request !== this._requests.detail || this._state.selected !== name) {
        return;
      }
      const versions = detail.versions.map(v => v.version);
      const version =
        this._state.version && versions.includes(this._state.version)
          ? this._state.version
          : (versions[0] ?? null);
      this._set({ detail, detailError: null, version });
    } catch (error) {
      if (request === this._requests.detail) {
        this._set({ detail: null, detailError: message(error) });
      }
    }
  }

  private async _loadLineage(): Promise<void> {
    const { selected, version } = this._state;
    if (!selected || !version) {
      return;
    }
    const ref = `${selected}:${version}`;
    const request = ++this._requests.lineage;
    try {
      const lineage = await api.getLineage(ref);
      if (request === this._requests.lineage) {
        this._set({ lineage, lineageError: null });
      }
    } catch (error) {
      if (request === this._requests.lineage) {
        this._set({ lineage: null, lineageError: message(error) });
      }
    }
  }

  private async _loadModels(): Promise<void> {
    const request = ++this._requests.models;
    try {
      const answer = await api.getModels();
      if (request === this._requests.models) {
        this._set({ models: answer.models, modelsLoaded: true, modelsError: null });
      }
    } catch (error) {
      if (request === this._requests.models) {
        // No registry on this server (404): the same as no registered model.
        this._set(
          isNotFound(error)
            ? { models: [], modelsLoaded: true, modelsError: null }
            : { modelsLoaded: true, modelsError: message(error) }
        );
      }
    }
  }

  private async _loadModel(): Promise<void> {
    const name = this._state.selectedModel;
    if (!name) {
      return;
    }
    const request = ++this._requests.model;
    try {
      const model = await api.getModel(name);
      if (request === this._requests.model && this._state.selectedModel === name) {
        this._set({ model, modelError: null });
      }
    } catch (error) {
      if (request === this._requests.model) {
        this._set({ model: null, modelError: message(error) });
      }
    }
  }

  private _set(change: Partial<IArtifactsState>): void {
    this._state = { ...this._state, ...change };
    this._onChange();
  }

  private _state: IArtifactsState = INITIAL_ARTIFACTS;
  private _requests = { list: 0, detail: 0, lineage: 0, models: 0, model: 0 };
}
