/**
 * Typed calls to nbtrack's REST API. Every request goes through `requestAPI`, which uses
 * `ServerConnection.makeRequest` so Jupyter's token and XSRF handling apply.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import {
  IArtifactDetail,
  IArtifactsResponse,
  IChartResponse,
  IJobRecord,
  IJobRequest,
  IKeysResponse,
  ILineage,
  IMediaResponse,
  IMetricsBatchResponse,
  IMetricsResponse,
  IModelDetail,
  IModelsResponse,
  IReportResponse,
  IRunDetail,
  IRunDiffRecord,
  IRunRecord,
  IRunsPage,
  IRunUpdate,
  IStatusInfo,
  ISweepDetail,
  ISweepsResponse
} from './tokens';

/** An error answer of the API, carrying the server's message for people. */
export class APIError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'APIError';
  }
}

/** Query arguments; undefined, null and '' are left out. */
export type Query = { [key: string]: string | number | boolean | null | undefined };

function queryString(query: Query | undefined): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') {
      continue;
    }
    const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(text)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/**
 * Call `<base_url>/nbtrack/api/<endpoint>` and decode its JSON answer.
 *
 * Throws `APIError` with the server's `{error}` message on any non-2xx answer, and a
 * `ServerConnection.NetworkError` when the server cannot be reached.
 */
export async function requestAPI<T>(
  endpoint: string,
  init: RequestInit = {},
  query?: Query,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'nbtrack', 'api', endpoint) + queryString(query);
  const response = await ServerConnection.makeRequest(url, init, settings);
  const text = await response.text();
  let data: any = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const message =
      data && typeof data === 'object' && typeof data.error === 'string'
        ? data.error
        : `${response.status} ${response.statusText || 'error'}`;
    throw new APIError(message, response.status);
  }
  return data as T;
}

/** Sort keys the runs list accepts: run columns, `metrics.<key>`, `params.<key>`. */
export type SortKey = string;

export interface IRunsQuery {
  limit?: number;
  offset?: number;
  sort?: SortKey;
  order?: 'asc' | 'desc';
  status?: string;
  tag?: string;
  notebook?: string;
  q?: string;
  where?: string;
}

/** `GET runs`: one page of runs. */
export function getRuns(query: IRunsQuery = {}): Promise<IRunsPage> {
  return requestAPI<IRunsPage>('runs', {}, { ...query });
}

/** `GET runs/{ref}`: everything about one run. */
export function getRun(ref: string | number): Promise<IRunDetail> {
  return requestAPI<IRunDetail>(`runs/${encodeURIComponent(String(ref))}`);
}

/** `GET runs/{ref}/metrics`: series of a run, downsampled to `max_points`. */
export function getMetrics(
  ref: string | number,
  options: { keys?: string[]; maxPoints?: number; afterStep?: number } = {}
): Promise<IMetricsResponse> {
  return requestAPI<IMetricsResponse>(`runs/${encodeURIComponent(String(ref))}/metrics`, {}, {
    keys: options.keys?.join(','),
    max_points: options.maxPoints,
    after_step: options.afterStep
  });
}

/** The most runs and keys one `GET metrics` accepts (responses.MAX_BATCH_RUNS, _KEYS). */
export const MAX_BATCH_RUNS = 250;
export const MAX_BATCH_KEYS = 50;

/**
 * `GET metrics`: the series of every (run, key) pair in one answer, each downsampled to
 * `maxPoints`. `afterSteps`, aligned with `runs`, asks only for points after a step (null: all).
 */
export function getMetricsBatch(
  runs: string[],
  keys: string[],
  options: { maxPoints?: number; afterSteps?: (number | null)[] } = {}
): Promise<IMetricsBatchResponse> {
  return requestAPI<IMetricsBatchResponse>('metrics', {}, {
    runs: runs.join(','),
    keys: keys.join(','),
    max_points: options.maxPoints,
    after_steps: options.afterSteps?.map(step => (step === null ? '' : String(step))).join(',')
  });
}

/** `GET diff`: compare runs (cells and variables: first against last). */
export function getDiff(runs: string[], changedOnly = false): Promise<IRunDiffRecord> {
  return requestAPI<IRunDiffRecord>('diff', {}, {
    runs: runs.join(','),
    changed_only: changedOnly
  });
}

export interface IChartQuery {
  kind?: 'curves' | 'scatter' | 'parallel';
  runs: string[];
  key: string;
  log?: boolean;
  smoothing?: number;
  maxPoints?: number;
}

/** `GET charts`: a Vega-Lite spec built on the server. */
export function getChart(query: IChartQuery): Promise<IChartResponse> {
  return requestAPI<IChartResponse>('charts', {}, {
    kind: query.kind ?? 'curves',
    runs: query.runs.join(','),
    key: query.key,
    log: query.log ?? false,
    smoothing: query.smoothing || undefined,
    max_points: query.maxPoints
  });
}

/** `GET keys`: metric and param names used in the workspace. */
export function getKeys(): Promise<IKeysResponse> {
  return requestAPI<IKeysResponse>('keys');
}

/** `GET status`: version, store path and the change token. */
export function getStatus(): Promise<IStatusInfo> {
  return requestAPI<IStatusInfo>('status');
}

/** `PATCH runs/{ref}`: rename, retag or annotate a run. */
export function updateRun(ref: string | number, update: IRunUpdate): Promise<IRunRecord> {
  return requestAPI<IRunRecord>(`runs/${encodeURIComponent(String(ref))}`, {
    method: 'PATCH',
    body: JSON.stringify(update)
  });
}

/** `DELETE runs/{ref}`: hide a run from every list. */
export async function deleteRun(ref: string | number): Promise<void> {
  await requestAPI<null>(`runs/${encodeURIComponent(String(ref))}`, { method: 'DELETE' });
}

/** `POST report`: write the run report of a notebook; answers the HTML file's path. */
export function exportReport(notebookPath: string): Promise<IReportResponse> {
  return requestAPI<IReportResponse>('report', {
    method: 'POST',
    body: JSON.stringify({ path: notebookPath })
  });
}

export interface IMediaQuery {
  /** The media key; without it the answer lists the run's keys only. */
  key?: string;
  /** The step whose values to answer (default: the last step). */
  step?: number;
  /** A page of every step's values, in step order, instead of one step's. */
  all?: boolean;
  offset?: number;
  /** At most MAX_MEDIA_ITEMS. */
  limit?: number;
}

/** The most values one `all` page of `GET runs/{ref}/media` holds (media.responses.MAX_ITEMS). */
export const MAX_MEDIA_ITEMS = 1000;

/**
 * `GET runs/{ref}/media`: the run's media keys; with `key`, that key's steps and the values
 * of one step (or, with `all`, a page of every step's values).
 */
export function getMedia(ref: string | number, query: IMediaQuery = {}): Promise<IMediaResponse> {
  return requestAPI<IMediaResponse>(`runs/${encodeURIComponent(String(ref))}/media`, {}, {
    key: query.key,
    step: query.step,
    all: query.all || undefined,
    offset: query.offset,
    limit: query.limit
  });
}

/**
 * The URL of a blob's bytes (`GET blobs/{name}`), for `<img>`/`<audio>` sources: the browser
 * sends JupyterLab's login cookie with it.
 */
export function blobURL(
  name: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  return URLExt.join(settings.baseUrl, 'nbtrack', 'api', 'blobs', encodeURIComponent(name));
}

/** `GET blobs/{name}` as text (tables, text, HTML, chart specs are UTF-8). */
export async function getBlobText(
  name: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<string> {
  return fetchText(blobURL(name, settings), settings);
}

/** `GET artifacts`: every artifact name (of `type`) with its newest version and aliases. */
export function getArtifacts(type?: string): Promise<IArtifactsResponse> {
  return requestAPI<IArtifactsResponse>('artifacts', {}, { type });
}

/** `GET artifacts/{name}`: every version, newest first, with files and runs. */
export function getArtifact(name: string): Promise<IArtifactDetail> {
  return requestAPI<IArtifactDetail>(`artifacts/${encodeURIComponent(name)}`);
}

/**
 * The URL of a version's file (`GET artifacts/{name}/{version}/files/{path}`), a download
 * link: the browser sends JupyterLab's login cookie with it.
 */
export function artifactFileURL(
  name: string,
  version: string,
  path: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  const parts = path.split('/').map(encodeURIComponent);
  return URLExt.join(
    settings.baseUrl,
    'nbtrack',
    'api',
    'artifacts',
    encodeURIComponent(name),
    encodeURIComponent(version),
    'files',
    ...parts
  );
}

/** `GET lineage?ref=name:vN`: the runs and versions upstream and downstream of one. */
export function getLineage(ref: string): Promise<ILineage> {
  return requestAPI<ILineage>('lineage', {}, { ref });
}

/** `GET models`: the registered models (a 404 where the registry is not installed). */
export function getModels(): Promise<IModelsResponse> {
  return requestAPI<IModelsResponse>('models');
}

/** `GET models/{name}`: a registered model's versions. */
export function getModel(name: string): Promise<IModelDetail> {
  return requestAPI<IModelDetail>(`models/${encodeURIComponent(name)}`);
}

/** `GET sweeps`: the workspace's sweeps, newest first. */
export function getSweeps(): Promise<ISweepsResponse> {
  return requestAPI<ISweepsResponse>('sweeps');
}

/** `GET sweeps/{name}`: a sweep's space, best trial, trials and param importances. */
export function getSweep(name: string): Promise<ISweepDetail> {
  return requestAPI<ISweepDetail>(`sweeps/${encodeURIComponent(name)}`);
}

/** `POST jobs`: run a notebook with parameters as a tracked run, in the background. */
export function startJob(request: IJobRequest): Promise<IJobRecord> {
  return requestAPI<IJobRecord>('jobs', { method: 'POST', body: JSON.stringify(request) });
}

/** `GET jobs/{id}`: a job's state; its run and final status once it has ended. */
export function getJob(id: string): Promise<IJobRecord> {
  return requestAPI<IJobRecord>(`jobs/${encodeURIComponent(id)}`);
}

/** `GET artifacts/{name}/{version}/files/{path}` as text (an executed notebook's JSON). */
export async function getArtifactFileText(
  name: string,
  version: string,
  path: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<string> {
  return fetchText(artifactFileURL(name, version, path, settings), settings);
}

/** GET `url` as text; a failed answer raises its JSON `error` (else the status line). */
async function fetchText(url: string, settings: ServerConnection.ISettings): Promise<string> {
  const response = await ServerConnection.makeRequest(url, {}, settings);
  const text = await response.text();
  if (!response.ok) {
    let message = `${response.status} ${response.statusText || 'error'}`;
    try {
      const data = JSON.parse(text);
      if (data && typeof data.error === 'string') {
        message = data.error;
      }
    } catch {
      // not JSON: keep the status line
    }
    throw new APIError(message, response.status);
  }
  return text;
}
