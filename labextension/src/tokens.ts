/**
 * Wire shapes of nbtrack's REST API (`<base_url>/nbtrack/api/...`).
 *
 * Mirrored ONCE from the TypedDicts in `python/nbtrack/model.py`, which is the contract: same
 * snake_case keys, `I` prefix. Change model.py first, then this file.
 */

/** model.RunStatus */
export type RunStatus =
  | 'running'
  | 'finished'
  | 'failed'
  | 'crashed'
  | 'interrupted'
  | 'pruned';

/** model.CellOutcome */
export type CellOutcome = 'ok' | 'error' | 'interrupted';

/** model.ChangeKind */
export type ChangeKind = 'added' | 'changed' | 'deleted';

/** model.ParamValue: a JSON-compatible param value. */
export type ParamValue =
  | number
  | boolean
  | string
  | null
  | ParamValue[]
  | { [key: string]: ParamValue };

/** model.MetricSummary */
export interface IMetricSummary {
  key: string;
  value: number | null;
  last: number | null;
  last_step: number | null;
  min: number | null;
  max: number | null;
  count: number;
}

/** model.RunRecord: one row of the runs list. */
export interface IRunRecord {
  id: string;
  number: number;
  name: string;
  status: RunStatus;
  notebook: string | null;
  session: string | null;
  host: string | null;
  started: number;
  ended: number | null;
  heartbeat: number | null;
  duration: number | null;
  tags: string[];
  notes: string;
  /** Items (metric points, cell records, params...) that could not be stored. */
  lost: number;
  params: { [key: string]: ParamValue };
  summary: { [key: string]: number | null };
}

/** model.VariableChange */
export interface IVariableChange {
  name: string;
  change: ChangeKind;
  type: string;
  shape: string | null;
  dtype: string | null;
  length: number | null;
  repr: string;
  value: number | boolean | string | null;
}

/** model.CellExecution */
export interface ICellExecution {
  id: number;
  run_id: string | null;
  session: string | null;
  execution_count: number | null;
  cell_id: string | null;
  source: string;
  started: number;
  duration: number | null;
  outcome: CellOutcome | null;
  error_type: string | null;
  error_message: string | null;
  /** CPU seconds the process used while the cell ran. */
  cpu_time: number | null;
  /** Bytes the cell raised the process's peak resident memory by. */
  peak_memory_delta: number | null;
  variables: IVariableChange[];
}

/** model.RunDetail */
export interface IRunDetail extends IRunRecord {
  metrics: IMetricSummary[];
  env: { [key: string]: unknown };
  cells: ICellExecution[];
  /** What the run used and produced. */
  artifacts: IRunArtifacts;
}

/** model.MetricSeries */
export interface IMetricSeries {
  run_id: string;
  key: string;
  step: number[];
  value: (number | null)[];
  time: number[];
  cell: (number | null)[];
  count: number;
  step_min: number | null;
  step_max: number | null;
  downsampled: boolean;
}

/** model.ValueDelta */
export interface IValueDelta {
  key: string;
  values: unknown[];
  equal: boolean;
}

/** model.MetricDelta */
export interface IMetricDelta {
  key: string;
  values: (number | null)[];
  delta: number | null;
}

/** model.CellDiff */
export interface ICellDiff {
  index: number;
  cell_id: string | null;
  a_source: string | null;
  b_source: string | null;
  diff: string;
  equal: boolean;
}

/** model.VariableDelta */
export interface IVariableDelta {
  name: string;
  a: string | null;
  b: string | null;
  equal: boolean;
}

/** model.RunDiffRecord */
export interface IRunDiffRecord {
  runs: IRunRecord[];
  params: IValueDelta[];
  metrics: IMetricDelta[];
  cells: ICellDiff[];
  variables: IVariableDelta[];
  env: IValueDelta[];
}

/** model.StatusInfo */
export interface IStatusInfo {
  version: string;
  schema_version: number;
  store: string;
  change_token: string;
}

/** model.RunsPage */
export interface IRunsPage {
  runs: IRunRecord[];
  total: number;
  limit: number;
  offset: number;
}

/** model.MetricsResponse */
export interface IMetricsResponse {
  run_id: string;
  series: IMetricSeries[];
}

/** model.MetricsBatchResponse: `GET metrics`, one series per (run, key), key by key. */
export interface IMetricsBatchResponse {
  runs: string[];
  keys: string[];
  max_points: number;
  series: IMetricSeries[];
}

/** model.KeysResponse */
export interface IKeysResponse {
  metrics: string[];
  params: string[];
}

/** model.ChartResponse: `spec` is a Vega-Lite spec built by nbtrack.charts. */
export interface IChartResponse {
  kind: string;
  spec: { [key: string]: unknown };
}

/** model.MediaRecord: one logged rich value; `blob`/`thumb` are served by `GET blobs/{name}`. */
export interface IMediaRecord {
  key: string;
  step: number;
  idx: number;
  kind: string;
  blob: string | null;
  thumb: string | null;
  meta: { [key: string]: unknown };
  time: number;
  cell: number | null;
}

/** model.MediaKey */
export interface IMediaKey {
  key: string;
  kind: string;
  count: number;
  first_step: number;
  last_step: number;
}

/** model.MediaResponse: `GET runs/{ref}/media` (with `key`: its steps and one step's values). */
export interface IMediaResponse {
  run_id: string;
  keys: IMediaKey[];
  key: string | null;
  steps: number[];
  items: IMediaRecord[];
}

/** model.ErrorResponse */
export interface IErrorResponse {
  error: string;
  status: number;
}

/** Body and answer of `POST report` (nbtrack/server/report_handler.py). */
export interface IReportRequest {
  path: string;
  runs?: (string | number)[];
}
export interface IReportResponse {
  path: string;
}

/** Body of `PATCH runs/{ref}` (service.parse_run_update). */
export interface IRunUpdate {
  name?: string;
  tags?: string[];
  notes?: string;
}

/** model.LineageNode: `run:<run id>` or `artifact:<name>:v<n>`. */
export interface ILineageNode {
  id: string;
  kind: 'run' | 'artifact' | string;
  number: number | null;
  run_id: string | null;
  name: string | null;
  version: string | null;
  type: string | null;
}

/** model.LineageEdge: a run produced a version (`out`) or used one (`in`). */
export interface ILineageEdge {
  source: string;
  target: string;
  direction: 'in' | 'out' | string;
  cell: number | null;
  time: number;
}

/** model.Lineage: `GET lineage?ref=...`. */
export interface ILineage {
  root: string;
  nodes: ILineageNode[];
  edges: ILineageEdge[];
  upstream: string[];
  downstream: string[];
}

/** model.ArtifactSummary: one artifact name in `GET artifacts`. */
export interface IArtifactSummary {
  name: string;
  type: string;
  versions: number;
  latest: string;
  aliases: { [alias: string]: string };
  updated: number;
  size: number;
}

/** model.ArtifactsResponse: `GET artifacts`. */
export interface IArtifactsResponse {
  artifacts: IArtifactSummary[];
}

/** model.ArtifactFile */
export interface IArtifactFile {
  path: string;
  size: number;
  digest: string;
}

/** model.ArtifactRun: a run that produced or used a version. */
export interface IArtifactRun {
  number: number;
  run_id: string | null;
  name: string | null;
}

/** model.ArtifactVersionRecord */
export interface IArtifactVersionRecord {
  version: string;
  aliases: string[];
  description: string;
  metadata: { [key: string]: unknown };
  created: number;
  size: number;
  files: IArtifactFile[];
  producer: IArtifactRun | null;
  consumers: IArtifactRun[];
}

/** model.ArtifactDetail: `GET artifacts/{name}` (versions newest first). */
export interface IArtifactDetail {
  name: string;
  type: string;
  versions: IArtifactVersionRecord[];
}

/** model.ArtifactLink: a version a run used or produced, in cell execution `cell`. */
export interface IArtifactLink {
  ref: string;
  name: string;
  version: string;
  type: string;
  cell: number | null;
}

/** model.RunArtifacts */
export interface IRunArtifacts {
  inputs: IArtifactLink[];
  outputs: IArtifactLink[];
}

/** model.ModelSummary: a registered model in `GET models`; `aliases` map to version numbers. */
export interface IModelSummary {
  name: string;
  description: string;
  tags: { [key: string]: string };
  aliases: { [alias: string]: number };
  latest_version: number;
  versions: number;
  updated: number;
}

/** model.ModelsResponse: `GET models`, by name. */
export interface IModelsResponse {
  models: IModelSummary[];
}

/** model.ModelVersionRun: the run that logged a model version's artifact. */
export interface IModelVersionRun {
  number: number;
  run_id: string;
  name: string;
}

/**
 * model.ModelVersionRecord: one version of a registered model; `artifact` is the model
 * artifact version it points at ("clf:v2"); `flavor`/`signature` from its metadata.
 */
export interface IModelVersionRecord {
  version: number;
  artifact: string;
  run: IModelVersionRun | null;
  created: number;
  description: string;
  tags: Record<string, string>;
  aliases: string[];
  flavor: string | null;
  signature: IModelSignature | null;
}

/** model.ModelDetail: `GET models/{name}` (404 IErrorResponse when unknown). */
export interface IModelDetail {
  name: string;
  description: string;
  tags: Record<string, string>;
  aliases: Record<string, number>;
  versions: IModelVersionRecord[];
}

/** A model signature (MLflow's column/tensor spec, in JSON). */
export interface IModelSignature {
  inputs: IModelSpecItem[];
  outputs: IModelSpecItem[] | null;
}

/** One column or tensor of a signature. */
export interface IModelSpecItem {
  name: string | null;
  type: string;
  dtype?: string;
  shape?: number[];
}

/** model.TrialStatus: a sweep trial's status (a run status, or `waiting`). */
export type TrialStatus =
  | 'running'
  | 'waiting'
  | 'finished'
  | 'failed'
  | 'crashed'
  | 'interrupted'
  | 'pruned';

/**
 * model.SweepSummary: a sweep in `GET sweeps`; `counts` are trials by status, `storage` a path
 * or a URL without password, `error` why it could not be read.
 */
export interface ISweepSummary {
  name: string;
  storage: string;
  metric: string | null;
  goal: string | null;
  trials: number;
  counts: { [status: string]: number };
  best_value: number | null;
  updated: number | null;
  error: string | null;
}

/** model.SweepsResponse: `GET sweeps`, newest first. */
export interface ISweepsResponse {
  sweeps: ISweepSummary[];
}

/**
 * model.SweepParam: `type` uniform | intrange | choice | constant; `description` the code that
 * makes it; `low`/`high` for ranges, `values` for a choice or a constant.
 */
export interface ISweepParam {
  name: string;
  type: string;
  description: string;
  low: number | null;
  high: number | null;
  log: boolean;
  values: ParamValue[] | null;
}

/** model.SweepTrialRecord: one trial and the run it was recorded as. */
export interface ISweepTrialRecord {
  number: number;
  status: TrialStatus;
  value: number | null;
  params: { [name: string]: ParamValue };
  run_number: number | null;
  run_id: string | null;
  duration: number | null;
  started: number | null;
}

/** model.SweepBest: the best finished trial and its config (constants included). */
export interface ISweepBest {
  number: number;
  value: number;
  config: { [name: string]: ParamValue };
  run_number: number | null;
  run_id: string | null;
}

/** model.SweepDetail: `GET sweeps/{name}` (404 IErrorResponse when unknown). */
export interface ISweepDetail {
  name: string;
  storage: string;
  metric: string;
  goal: string;
  method: string | null;
  n_trials: number | null;
  space: ISweepParam[];
  best: ISweepBest | null;
  trials: ISweepTrialRecord[];
  importances: { [name: string]: number } | null;
}

/** A parameter value as JSON carries it (model.ParamValue, lists included). */
export type JobParamValue = string | number | boolean | null | JobParamValue[];

/** The body of `POST jobs`: a notebook of the server root, run with `params`. */
export interface IJobRequest {
  path: string;
  params: { [name: string]: JobParamValue };
  name?: string;
  tags?: string[];
  kernel?: string;
  timeout?: number;
}

/**
 * model.JobRecord: a notebook job started in the background (`POST jobs`, `GET jobs/{id}`).
 * `status` is `running` until the job ends, then its run's final status or `not started`;
 * `run` is the run's number once the job has ended; `artifact` the executed notebook's
 * artifact version (`train.ipynb:v3`); `cell` the 1-based failing cell.
 */
export interface IJobRecord {
  id: string;
  status: string;
  notebook: string;
  params: { [name: string]: JobParamValue };
  name: string | null;
  run: number | null;
  run_id: string | null;
  error: string | null;
  cell: number | null;
  artifact: string | null;
  started: number;
  duration: number | null;
  warnings: string[];
}
