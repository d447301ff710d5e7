"""What the REST API (and the CLI's --json) answers, as plain functions of the store's path.

Each function opens the store itself (read-only for reads, in one snapshot) and returns one of
the wire shapes of :mod:`nbtrack.model`, so the handlers only parse arguments and write JSON.
A workspace that has recorded nothing yet reads as an empty store. ``RunNotFound`` and
``ValueError`` are the errors a caller can cause; the handlers map them to 404 and 400.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import nbtrack
from nbtrack import config, wire
from nbtrack.condition import status_sql
from nbtrack.filter import compile_selection, compile_sort
from nbtrack.model import (
    ChartResponse,
    KeysResponse,
    MetricsBatchResponse,
    MetricsResponse,
    RunDetail,
    RunDiffRecord,
    RunRecord,
    RunsPage,
    StatusInfo,
    run_label,
)
from nbtrack.store import access, diff, downsample, queries, schema, writes
from nbtrack.store.access import Connection
from nbtrack.store.queries import RunNotFound

#: The most runs one page of ``GET runs`` (or one chart) holds.
MAX_LIMIT = 1000
#: The most points one series may be asked for.
MAX_POINTS = 100_000
CHART_KINDS = ("curves", "scatter", "parallel")
#: The most runs, keys and points (runs x keys x max_points) one ``GET metrics`` may ask for.
MAX_BATCH_RUNS = 250
MAX_BATCH_KEYS = 50
MAX_BATCH_POINTS = 4_000_000


def reading(path: Path) -> AbstractContextManager[Connection]:
    """A connection to the store at ``path`` holding one snapshot of it (an empty store when
    the workspace has none); see :func:`nbtrack.store.access.reading`."""
    return access.reading(path)


def runs_page(
    path: Path,
    *,
    limit: int = 50,
    offset: int = 0,
    sort: str = "started",
    descending: bool = True,
    status: str | None = None,
    tag: str | None = None,
    notebook: str | None = None,
    search: str | None = None,
    where: str | None = None,
) -> RunsPage:
    """One page of the runs that match the filters, in ``sort`` order."""
    if not 0 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 0 and {MAX_LIMIT}")
    if offset < 0:
        raise ValueError("offset must be 0 or more")
    selection = compile_selection(where, status=status, tag=tag, notebook=notebook,
                                  search=search)
    ordering = compile_sort(sort)
    with reading(path) as db:
        numbers, total = queries.list_run_numbers(
            db, selection, ordering, descending=descending, limit=limit, offset=offset,
        )
        records = queries.run_records(db, numbers)
    return RunsPage(runs=records, total=total, limit=limit, offset=offset)


def run_detail(path: Path, ref: str) -> RunDetail:
    """Everything known about one run: record, metric summaries, environment, cells, and the
    artifact versions it used and produced."""
    from nbtrack.artifacts.responses import run_artifacts

    with reading(path) as db:
        number = queries.resolve_run(db, ref)
        record = queries.run_records(db, [number])[0]
        return RunDetail(
            **record,
            metrics=queries.summaries_of(db, [number])[number],
            env=queries.environment_of(db, number),
            cells=queries.cell_executions(db, number),
            artifacts=run_artifacts(db, number),
        )


def run_metrics(
    path: Path,
    ref: str,
    *,
    keys: Sequence[str] | None = None,
    max_points: int = 1000,
    after_step: int | None = None,
) -> MetricsResponse:
    """The run's metric series (``keys``, default all), each reduced to ``max_points``."""
    _check_max_points(max_points)
    with reading(path) as db:
        number = queries.resolve_run(db, ref)
        run_id = _run_id(db, number)
        series = downsample.read_series(
            db, number, run_id, keys or None, max_points=max_points, after_step=after_step,
            cache=_cache_for(path),
        )
    return MetricsResponse(run_id=run_id, series=series)


def metrics_batch(
    path: Path,
    runs: Sequence[str],
    keys: Sequence[str],
    *,
    max_points: int = 500,
    after_steps: Sequence[int | None] | None = None,
) -> MetricsBatchResponse:
    """The series of every (run, key) pair, each reduced to ``max_points``, from one snapshot.

    ``after_steps``, aligned with ``runs``, asks only for the points after a step per run
    (None: all of them): what a live view asks for to extend the curves it has. Too many runs,
    keys or points in one request is a ``ValueError`` that says how to split it.
    """
    _check_max_points(max_points)
    if not runs:
        raise ValueError("metrics needs runs: runs=<id>,<id>,...")
    if not keys:
        raise ValueError("metrics needs metric keys: keys=<key>,<key>,...")
    if len(runs) > MAX_BATCH_RUNS:
        raise ValueError(f"at most {MAX_BATCH_RUNS} runs per request (asked for {len(runs)}): "
                         "split the runs over several requests")
    if len(keys) > MAX_BATCH_KEYS:
        raise ValueError(f"at most {MAX_BATCH_KEYS} keys per request (asked for {len(keys)}): "
                         "split the keys over several requests")
    if len(runs) * len(keys) * max_points > MAX_BATCH_POINTS:
        raise ValueError(
            f"runs x keys x max_points is {len(runs) * len(keys) * max_points}, more than "
            f"{MAX_BATCH_POINTS}: ask for fewer runs, keys or points per request")
    afters = list(after_steps) if after_steps is not None else [None] * len(runs)
    if len(afters) != len(runs):
        raise ValueError(f"after_steps has {len(afters)} values for {len(runs)} runs: "
                         "give one per run (empty for all points)")
    wanted = list(dict.fromkeys(keys))
    cache = _cache_for(path)
    with reading(path) as db:
        numbers = [queries.resolve_run(db, ref) for ref in runs]
        ids = [_run_id(db, number) for number in numbers]
        by_run = [
            downsample.read_series(db, number, run_id, wanted, max_points=max_points,
                                   after_step=after, cache=cache)
            for number, run_id, after in zip(numbers, ids, afters)
        ]
    series = [run_series[k] for k in range(len(wanted)) for run_series in by_run]
    return MetricsBatchResponse(runs=ids, keys=wanted, max_points=max_points, series=series)


def run_diff(path: Path, refs: Sequence[str], *, changed_only: bool = False) -> RunDiffRecord:
    """Compare two or more runs; ``changed_only`` keeps only the params and env that differ."""
    if len(refs) < 2:
        raise ValueError("diff needs at least two runs: runs=a,b")
    with reading(path) as db:
        record = diff.diff_runs(db, [queries.resolve_run(db, ref) for ref in refs])
    if changed_only:
        record["params"] = [d for d in record["params"] if not d["equal"]]
        record["env"] = [d for d in record["env"] if not d["equal"]]
    return record


def chart(
    path: Path,
    kind: str,
    *,
    runs: Sequence[str] = (),
    keys: Sequence[str] = (),
    param: str | None = None,
    params: Sequence[str] = (),
    log_scale: bool = False,
    smoothing: float = 0.0,
    max_points: int = 1000,
) -> ChartResponse:
    """A Vega-Lite spec from :mod:`nbtrack.charts`.

    ``curves``: the ``keys`` of ``runs`` over steps; ``scatter``: ``param`` against the summary
    of ``keys[0]``, one point per run; ``parallel``: ``params`` and ``keys[0]``, one line per
    run. Scatter and parallel use ``runs``, or the newest runs when none are given.
    """
    if kind not in CHART_KINDS:
        raise ValueError(f"unknown chart kind {kind!r}; one of {', '.join(CHART_KINDS)}")
    if not keys:
        raise ValueError("a chart needs a metric: key=<metric>")
    _check_max_points(max_points)
    from nbtrack import charts  # altair loads on the first chart, not with the server

    with reading(path) as db:
        numbers = [queries.resolve_run(db, ref) for ref in runs]
        if kind == "curves":
            if not numbers:
                raise ValueError("curves need runs: runs=a,b")
            records = queries.run_records(db, numbers)
            series = [
                s
                for r in records
                for s in downsample.read_series(db, r["number"], r["id"], keys,
                                                max_points=max_points, cache=_cache_for(path))
            ]
            labels = {r["id"]: run_label(r) for r in records}
            built = charts.curves(series, labels, log_scale=log_scale, smoothing=smoothing)
        else:
            if not numbers:
                numbers, _ = queries.list_run_numbers(db, limit=MAX_LIMIT)
            records = queries.run_records(db, numbers)
            if kind == "scatter":
                if not param:
                    raise ValueError("a scatter chart needs a param: param=<name>")
                built = charts.scatter(records, param, keys[0])
            else:
                if not params:
                    raise ValueError("a parallel chart needs params: params=a,b")
                built = charts.parallel(records, list(params), keys[0])
    return ChartResponse(kind=kind, spec=charts.to_spec(built))


def workspace_keys(path: Path) -> KeysResponse:
    """The metric and param names used across the workspace."""
    with reading(path) as db:
        metrics, params = queries.workspace_keys(db)
    return KeysResponse(metrics=metrics, params=params)


def status(path: Path) -> StatusInfo:
    """Version, schema version, the store's path and a token that changes on every write.

    The token covers the database and WAL files (size and modification time) and the number
    of runs that read as running, so a run whose heartbeat went stale (crashed) changes it too.
    """
    parts: list[Any] = []
    for file in (path, path.with_name(path.name + "-wal")):
        try:
            stat = file.stat()
        except FileNotFoundError:
            parts.append(None)
        else:
            parts.append((stat.st_ino, stat.st_size, stat.st_mtime_ns))
    version = 0
    if path.exists():
        with reading(path) as db:
            version = schema.schema_version(db)
            status_expr, args = status_sql()
            parts.append(db.execute(
                f"SELECT COUNT(*) FROM runs WHERE deleted = 0 AND ({status_expr}) = 'running'",
                args,
            ).fetchone()[0])
    token = hashlib.blake2b(repr(parts).encode(), digest_size=8).hexdigest()
    return StatusInfo(
        version=nbtrack.__version__, schema_version=version, store=str(path),
        change_token=token,
    )


def update_run(path: Path, ref: str, body: object) -> RunRecord:
    """Rename, retag or annotate a run from a JSON body ``{"name"?, "tags"?, "notes"?}``."""
    fields = parse_run_update(body)
    with _writing(path) as db:
        number = queries.resolve_run(db, ref)
        if fields:
            writes.update_run(db, number, fields)
        return queries.run_records(db, [number])[0]


def delete_run(path: Path, ref: str) -> None:
    """Hide a run from every list (it stays in the store, marked deleted)."""
    with _writing(path) as db:
        number = queries.resolve_run(db, ref)
        writes.update_run(db, number, {"deleted": 1})


def parse_run_update(body: object) -> dict[str, Any]:
    """The columns a PATCH body changes; ``ValueError`` for anything else."""
    if not isinstance(body, Mapping):
        raise ValueError('the body must be a JSON object such as {"name": "baseline"}')
    unknown = set(body) - {"name", "tags", "notes"}
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}: only name, tags, notes")
    fields: dict[str, Any] = {}
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip():
            raise ValueError("name must be a non-empty string")
        fields["name"] = name
    if "tags" in body:
        tags = body["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
            raise ValueError("tags must be a list of non-empty strings")
        fields["tags"] = list(dict.fromkeys(tags))
    if "notes" in body:
        if not isinstance(body["notes"], str):
            raise ValueError("notes must be a string")
        fields["notes"] = body["notes"]
    return fields


def to_json(data: object) -> str:
    """JSON text of ``data``; NaN and infinities (not JSON) become ``null``."""
    return wire.dumps(data)


@contextmanager
def _writing(path: Path) -> Iterator[Connection]:
    if not path.exists():
        raise RunNotFound("no run recorded in this workspace yet")
    with access.writing(path) as conn:
        yield conn


_caches: dict[Path, downsample.SeriesCache] = {}


def _cache_for(path: Path) -> downsample.SeriesCache:
    """The reduced-series cache of one store file (run ids are unique within a store)."""
    return _caches.setdefault(path, downsample.SeriesCache())


def _run_id(db: Connection, number: int) -> str:
    return str(db.execute("SELECT id FROM runs WHERE number = ?", (number,)).fetchone()[0])


def _check_max_points(max_points: int) -> None:
    if not 2 <= max_points <= MAX_POINTS:
        raise ValueError(f"max_points must be between 2 and {MAX_POINTS}")


def store_path() -> Path:
    """The store the server reads, found at call time as the kernels find theirs."""
    return config.db_path()
