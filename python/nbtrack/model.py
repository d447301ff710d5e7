"""Record and wire shapes shared by the API, the server, the widgets and the report.

These TypedDicts are the one declaration of what crosses a boundary (JSON over HTTP, widget
traits, report data). ``labextension/src/tokens.ts`` mirrors them with the same snake_case keys;
a test checks that server responses carry exactly these keys.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

#: ``pruned``: a sweep trial its pruner stopped early (see :mod:`nbtrack.sweeps`).
RunStatus = Literal["running", "finished", "failed", "crashed", "interrupted", "pruned"]
RUN_STATUSES: tuple[str, ...] = ("running", "finished", "failed", "crashed", "interrupted",
                                 "pruned")
CellOutcome = Literal["ok", "error", "interrupted"]
ChangeKind = Literal["added", "changed", "deleted"]

#: A param value as stored: JSON-compatible.
ParamValue = int | float | bool | str | None | list[Any] | dict[str, Any]


class MetricSummary(TypedDict):
    """Summary of one metric of one run. ``value`` is the explicit override if set, else last."""

    key: str
    value: float | None
    last: float | None
    last_step: int | None
    min: float | None
    max: float | None
    count: int


class RunRecord(TypedDict):
    """One row of the runs list."""

    id: str
    number: int
    name: str
    status: RunStatus
    notebook: str | None
    session: str | None
    host: str | None
    started: float
    ended: float | None
    heartbeat: float | None
    duration: float | None
    tags: list[str]
    notes: str
    #: Items (metric points, cell records, params...) that could not be stored.
    lost: int
    params: dict[str, ParamValue]
    summary: dict[str, float | None]


def run_label(record: RunRecord) -> str:
    """``#3 baseline``: how every view (tables, charts, diffs, reports) names a run."""
    return f"#{record['number']} {record['name']}"


class VariableChange(TypedDict):
    """A variable a cell execution added, changed or deleted in the user namespace."""

    name: str
    change: ChangeKind
    type: str
    shape: str | None
    dtype: str | None
    length: int | None
    repr: str
    value: int | float | bool | str | None


class CellExecution(TypedDict):
    """One execution of one cell."""

    id: int
    run_id: str | None
    session: str | None
    execution_count: int | None
    cell_id: str | None
    source: str
    started: float
    duration: float | None
    outcome: CellOutcome | None
    error_type: str | None
    error_message: str | None
    #: CPU seconds the process used while the cell ran (all its threads).
    cpu_time: float | None
    #: Bytes the cell raised the process's peak resident memory by (0: under an earlier peak).
    peak_memory_delta: int | None
    variables: list[VariableChange]


class RunDetail(RunRecord):
    """A run with everything known about it."""

    metrics: list[MetricSummary]
    env: dict[str, object]
    cells: list[CellExecution]
    artifacts: RunArtifacts


class MetricSeries(TypedDict):
    """One metric of one run; ``cell`` is the cell execution id that logged each point."""

    run_id: str
    key: str
    step: list[int]
    value: list[float | None]
    time: list[float]
    cell: list[int | None]
    count: int
    step_min: int | None
    step_max: int | None
    downsampled: bool


class ValueDelta(TypedDict):
    """One key compared across runs: ``values`` aligned with the diff's ``runs``."""

    key: str
    values: list[object]
    equal: bool


class MetricDelta(TypedDict):
    key: str
    values: list[float | None]
    delta: float | None


class CellDiff(TypedDict):
    """Code of aligned cell executions of two runs with a unified diff."""

    index: int
    cell_id: str | None
    a_source: str | None
    b_source: str | None
    diff: str
    equal: bool


class VariableDelta(TypedDict):
    name: str
    a: str | None
    b: str | None
    equal: bool


class RunDiffRecord(TypedDict):
    runs: list[RunRecord]
    params: list[ValueDelta]
    metrics: list[MetricDelta]
    cells: list[CellDiff]
    variables: list[VariableDelta]
    env: list[ValueDelta]


class StatusInfo(TypedDict):
    version: str
    schema_version: int
    store: str
    change_token: str


# -- HTTP responses of the server extension (/nbtrack/api/...) ------------------------------

class RunsPage(TypedDict):
    """``GET runs``: one page of runs and the total that matched."""

    runs: list[RunRecord]
    total: int
    limit: int
    offset: int


class MetricsResponse(TypedDict):
    """``GET runs/{ref}/metrics``: per-key series, downsampled to ``max_points``."""

    run_id: str
    series: list[MetricSeries]


class KeysResponse(TypedDict):
    """``GET keys``: the metric and param names used across the workspace."""

    metrics: list[str]
    params: list[str]


class ChartResponse(TypedDict):
    """``GET charts``: a Vega-Lite spec built by ``nbtrack.charts``."""

    kind: str
    spec: dict[str, object]


class MediaRecord(TypedDict):
    """One logged rich value (image, table, histogram, audio, text, html, figure).

    ``blob`` and ``thumb`` name its bytes and an image's thumbnail in the blob store
    (``GET blobs/{name}``); ``meta`` is kind-specific (see docs/schema.md, table ``media``).
    """

    key: str
    step: int
    idx: int
    kind: str
    blob: str | None
    thumb: str | None
    meta: dict[str, object]
    time: float
    cell: int | None


class MediaKey(TypedDict):
    """A key rich values were logged under, in one run."""

    key: str
    kind: str
    count: int
    first_step: int
    last_step: int


class MediaResponse(TypedDict):
    """``GET runs/{ref}/media``: the run's media keys; with ``key``, that key's steps and the
    values of one step (``step``, default the last) or of a page of steps (``all=1``)."""

    run_id: str
    keys: list[MediaKey]
    key: str | None
    steps: list[int]
    items: list[MediaRecord]


class JobRecord(TypedDict):
    """A notebook job started in the background (``POST jobs``, ``GET jobs/{id}``).

    ``status`` is ``running`` until the job ends, then its run's final status
    (``finished``, ``failed``, ``crashed``, ``interrupted``) or ``not started``; ``run`` is
    the run's number once the job has ended (the run shows in the runs list as soon as the
    kernel starts it); ``cell`` the 1-based failing cell of the source notebook.
    """

    id: str
    status: str
    notebook: str
    params: dict[str, ParamValue]
    name: str | None
    run: int | None
    run_id: str | None
    error: str | None
    cell: int | None
    artifact: str | None
    started: float
    duration: float | None
    warnings: list[str]


class ErrorResponse(TypedDict):
    """Every error answer: an HTTP status and a message for people."""

    error: str
    status: int


class MetricsBatchResponse(TypedDict):
    """``GET metrics``: series of many runs and keys in one answer (the Runs workspace).

    ``series`` holds one :class:`MetricSeries` per (run, key), key by key and, within a key,
    in the order of ``runs``; a run that never logged a key has an empty series (count 0).
    ``runs`` are the run ids of the refs asked for, in their order.
    """

    runs: list[str]
    keys: list[str]
    max_points: int
    series: list[MetricSeries]


class LineageNode(TypedDict):
    """A run or an artifact version in a lineage graph. ``id`` is ``run:<run id>`` or
    ``artifact:<name>:v<n>``; runs carry ``number``/``run_id``/``name``, versions
    ``name``/``version``/``type``."""

    id: str
    kind: str
    number: int | None
    run_id: str | None
    name: str | None
    version: str | None
    type: str | None


class LineageEdge(TypedDict):
    """``source`` -> ``target``: a run produced a version (``direction`` ``out``: run ->
    artifact) or used one (``in``: artifact -> run), in cell execution ``cell``."""

    source: str
    target: str
    direction: str
    cell: int | None
    time: float


class Lineage(TypedDict):
    """``nbtrack.lineage(ref)``: every node upstream and downstream of ``root``."""

    root: str
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    upstream: list[str]
    downstream: list[str]


# -- artifacts (``GET artifacts``, ``GET artifacts/{name}``, the run detail) -------------------

class ArtifactSummary(TypedDict):
    """One artifact name in ``GET artifacts``: its newest version (``latest``), its aliases
    (alias -> ``vN``), the size of its newest version and when that was logged."""

    name: str
    type: str
    versions: int
    latest: str
    aliases: dict[str, str]
    updated: float
    size: int


class ArtifactsResponse(TypedDict):
    """``GET artifacts``: every artifact name (``?type=`` keeps one type), by name."""

    artifacts: list[ArtifactSummary]


class ArtifactFile(TypedDict):
    """One file of a version: its path inside the artifact, size and SHA-256 (``digest``)."""

    path: str
    size: int
    digest: str


class ArtifactRun(TypedDict):
    """A run that produced or used an artifact version."""

    number: int
    run_id: str | None
    name: str | None


class ArtifactVersionRecord(TypedDict):
    """One version of an artifact: ``producer`` is the run that logged it first,
    ``consumers`` the runs that used it."""

    version: str
    aliases: list[str]
    description: str
    metadata: dict[str, Any]
    created: float
    size: int
    files: list[ArtifactFile]
    producer: ArtifactRun | None
    consumers: list[ArtifactRun]


class ArtifactDetail(TypedDict):
    """``GET artifacts/{name}``: every version, newest first."""

    name: str
    type: str
    versions: list[ArtifactVersionRecord]


class ArtifactLink(TypedDict):
    """An artifact version a run used or produced, in cell execution ``cell``."""

    ref: str
    name: str
    version: str
    type: str
    cell: int | None


class RunArtifacts(TypedDict):
    """What a run used (``inputs``) and produced (``outputs``), oldest first."""

    inputs: list[ArtifactLink]
    outputs: list[ArtifactLink]


# -- the model registry (GET models, GET models/{name}; `nbtrack models ... --json`) ---------

class ModelSummary(TypedDict):
    """A registered model in ``GET models``: ``aliases`` map to version numbers,
    ``latest_version`` is the newest version's number, ``versions`` how many there are."""

    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]
    latest_version: int
    versions: int
    updated: float


class ModelsResponse(TypedDict):
    """``GET models``: every registered model, by name."""

    models: list[ModelSummary]


class ModelVersionRun(TypedDict):
    """The run that logged a model version's artifact."""

    number: int
    run_id: str
    name: str


class ModelVersionRecord(TypedDict):
    """One version of a registered model: ``artifact`` is the model artifact version it points
    at (``"clf:v2"``), ``run`` the (not deleted) run that logged that artifact, ``flavor`` and
    ``signature`` what the artifact's metadata says (null when it does not)."""

    version: int
    artifact: str
    run: ModelVersionRun | None
    created: float
    description: str
    tags: dict[str, str]
    aliases: list[str]
    flavor: str | None
    signature: dict[str, Any] | None


class ModelDetail(TypedDict):
    """``GET models/{name}``: a registered model and its versions, oldest (1) first."""

    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]
    versions: list[ModelVersionRecord]


# -- sweeps (GET sweeps, GET sweeps/{name}) ----------------------------------------------------

#: A sweep trial's status: a run status, or ``waiting`` (enqueued, not started).
TrialStatus = Literal["running", "waiting", "finished", "failed", "crashed", "interrupted",
                      "pruned"]


class SweepSummary(TypedDict):
    """A sweep in ``GET sweeps``: where its study lives (a path or a URL without password),
    how many trials it has by status, its best value so far and when a trial last ended.
    ``error`` says why a sweep could not be read (then the other fields are empty)."""

    name: str
    storage: str
    metric: str | None
    goal: str | None
    trials: int
    counts: dict[str, int]
    best_value: float | None
    updated: float | None
    error: str | None


class SweepsResponse(TypedDict):
    """``GET sweeps``: every sweep of the workspace, newest first."""

    sweeps: list[SweepSummary]


class SweepParam(TypedDict):
    """One searched (or constant) param: ``type`` is uniform, intrange, choice or constant;
    ``description`` the code that makes it (``loguniform(0.0001, 0.1)``); ``low``/``high`` for
    ranges, ``values`` for a choice or a constant (one value)."""

    name: str
    type: str
    description: str
    low: float | None
    high: float | None
    log: bool
    values: list[Any] | None


class SweepTrialRecord(TypedDict):
    """One trial: its objective value (null unless finished or pruned), params, the nbtrack
    run it was recorded as (null when not recorded, e.g. in another workspace) and seconds."""

    number: int
    status: TrialStatus
    value: float | None
    params: dict[str, Any]
    run_number: int | None
    run_id: str | None
    duration: float | None
    started: float | None


class SweepBest(TypedDict):
    """The best finished trial and its config (constants included)."""

    number: int
    value: float
    config: dict[str, Any]
    run_number: int | None
    run_id: str | None


class SweepDetail(TypedDict):
    """``GET sweeps/{name}``: the space, target, best trial, every trial (oldest first) and
    each param's importance (Optuna's fANOVA; null with fewer than two finished trials)."""

    name: str
    storage: str
    metric: str
    goal: str
    method: str | None
    n_trials: int | None
    space: list[SweepParam]
    best: SweepBest | None
    trials: list[SweepTrialRecord]
    importances: dict[str, float] | None
