"""The sweeps' JSON answers (``GET sweeps``, ``GET sweeps/{name}``), shaped as
:mod:`nbtrack.model` declares them, from :func:`~nbtrack.sweeps.result.list_sweeps` and
:func:`~nbtrack.sweeps.result.get_sweep`.

Reading never creates or changes anything: a journal that is not there is a missing sweep (Optuna
would create an empty one), and a database URL is opened without creating Optuna's tables.
Answers for a journal sweep are kept until the journal file changes (its size and time), so the
polling views read each study again only when a trial moved.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any, cast

from nbtrack.model import (
    SweepBest,
    SweepDetail,
    SweepParam,
    SweepsResponse,
    SweepSummary,
    SweepTrialRecord,
    TrialStatus,
)
from nbtrack.sweeps import storage as _storage
from nbtrack.sweeps.result import Sweep, SweepNotFound, list_sweeps
from nbtrack.sweeps.space import Choice, Constant, Distribution, describe, to_spec
from nbtrack.sweeps.trial import Outcome

__all__ = ["sweep_detail", "sweeps_list"]

#: Answers kept (the newest journal stamps); older ones are dropped first.
CACHE_SIZE = 64

_cache: dict[tuple[str, str, str], tuple[tuple[int, int], Any]] = {}
_cache_lock = threading.Lock()


def _workspace(path: Path) -> Path:
    """The workspace of the store file ``path`` (``<ws>/.nbtrack/nbtrack.db``)."""
    return path.parent.parent


def sweeps_list(path: Path) -> SweepsResponse:
    """Every sweep of the workspace of the store at ``path``, newest first; a sweep that cannot
    be read is listed with its ``error``."""
    ws = _workspace(path)
    out = []
    for found in list_sweeps(ws):
        where = found._storage_arg  # noqa: SLF001 - the pointer list_sweeps read
        try:
            out.append(_cached("summary", found.name, where, ws, _summary))
        except Exception as exc:  # noqa: BLE001 - one unreadable sweep must not hide the rest
            out.append(SweepSummary(
                name=found.name, storage=_label(found.name, where, ws), metric=None, goal=None,
                trials=0, counts={}, best_value=None, updated=None, error=str(exc)))
    return SweepsResponse(sweeps=out)


def sweep_detail(path: Path, name: str) -> SweepDetail:
    """Sweep ``name`` of the workspace of the store at ``path``: its space, best trial, every
    trial and the params' importances (:class:`SweepNotFound` when there is none, a
    ``ValueError`` for a bad name)."""
    _storage.check_name(name)
    ws = _workspace(path)
    where = _storage.remembered(name, ws)
    return cast(SweepDetail, _cached("detail", name, where, ws, _detail))


# -- opening a sweep without writing -------------------------------------------------------------

def _label(name: str, where: str | None, ws: Path) -> str:
    if where is None:
        return str(_storage.journal_path(name, ws))
    return _storage.describe(where)


def _journal_file(name: str, where: str | None, ws: Path) -> Path | None:
    if where is None:
        return _storage.journal_path(name, ws)
    if "://" in where:
        return None
    return Path(where).expanduser().resolve()


def _open(name: str, where: str | None, ws: Path) -> Sweep:
    """The sweep, its study loaded from storage that is only read."""
    journal = _journal_file(name, where, ws)
    if journal is not None:
        if not journal.is_file():
            raise SweepNotFound(f"no sweep {name!r} in {journal}")
        store: Any = _storage.journal(journal)
    else:
        assert where is not None
        if where.startswith("sqlite:///"):
            db = Path(where[len("sqlite:///"):]).expanduser()
            if not db.is_file():
                raise SweepNotFound(f"no sweep {name!r}: no database at {db}")
        from optuna.storages import RDBStorage

        store = RDBStorage(where, skip_table_creation=True)
    found = Sweep(name, storage=store, workspace=ws)
    found.study  # noqa: B018 - SweepNotFound now
    return found


def _cached(kind: str, name: str, where: str | None, ws: Path, build: Any) -> Any:
    """``build(sweep, label)``, kept while a journal file keeps its size and time."""
    journal = _journal_file(name, where, ws)
    stamp: tuple[int, int] | None = None
    if journal is not None:
        try:
            info = journal.stat()
        except OSError:
            raise SweepNotFound(f"no sweep {name!r} in {journal}") from None
        stamp = (info.st_mtime_ns, info.st_size)
    key = (kind, str(ws), f"{name}\n{where}")
    if stamp is not None:
        with _cache_lock:
            held = _cache.get(key)
        if held is not None and held[0] == stamp:
            return held[1]
    answer = build(_open(name, where, ws), _label(name, where, ws))
    if stamp is not None:
        with _cache_lock:
            _cache[key] = (stamp, answer)
            while len(_cache) > CACHE_SIZE:
                _cache.pop(next(iter(_cache)))
    return answer


# -- the answers ----------------------------------------------------------------------------------

def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _updated(found: Sweep, outcomes: list[Outcome]) -> float | None:
    """When a trial last started or ended (else when the sweep was made)."""
    times = []
    for o in outcomes:
        started = o.extra.get("started")
        if isinstance(started, (int, float)):
            times.append(float(started) + (o.duration or 0.0))
    if times:
        return max(times)
    created = found.study.user_attrs.get("nbtrack", {}).get("created")
    return float(created) if isinstance(created, (int, float)) else None


def _summary(found: Sweep, label: str) -> SweepSummary:
    outcomes = found.outcomes()
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    best = found.best_trial
    return SweepSummary(
        name=found.name, storage=label, metric=found.metric, goal=found.goal,
        trials=len(outcomes), counts=counts,
        best_value=None if best is None else _finite(best.value),
        updated=_updated(found, outcomes), error=None)


def _param(name: str, dist: Distribution) -> SweepParam:
    spec = to_spec(dist)
    values: list[Any] | None = None
    if isinstance(dist, Choice):
        values = list(dist.values)
    elif isinstance(dist, Constant):
        values = [dist.value]
    ranged = not isinstance(dist, (Choice, Constant))
    return SweepParam(
        name=name, type=str(spec["type"]), description=describe(dist),
        low=float(spec["low"]) if ranged else None,
        high=float(spec["high"]) if ranged else None,
        log=bool(spec.get("log")),
        values=values)


def _trial(o: Outcome, ws: Path) -> SweepTrialRecord:
    run_number, run_id = o.run_number, o.run_id
    elsewhere = o.extra.get("workspace")
    if elsewhere and Path(str(elsewhere)).resolve() != ws.resolve():
        run_number = run_id = None  # recorded in another workspace: not a run of this store
    done = o.status not in ("running", "waiting")
    started = o.extra.get("started")
    return SweepTrialRecord(
        number=o.number, status=cast(TrialStatus, o.status), value=_finite(o.value),
        params=dict(o.params), run_number=run_number, run_id=run_id,
        duration=o.duration if done else None,
        started=float(started) if isinstance(started, (int, float)) else None)


def importances(found: Sweep) -> dict[str, float] | None:
    """Each searched param's importance (Optuna's fANOVA, seeded so that answers do not move
    between polls), normalized to sum to 1; None with fewer than two finished trials or when
    the trials leave nothing to compare."""
    import optuna

    finished = found.study.get_trials(deepcopy=False,
                                      states=(optuna.trial.TrialState.COMPLETE,))
    if len(finished) < 2:
        return None
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
    try:
        found_importances = optuna.importance.get_param_importances(found.study,
                                                                    evaluator=evaluator)
    except (RuntimeError, ValueError):  # one value only, nothing to compare
        return None
    return {str(k): float(v) for k, v in found_importances.items()}


def _detail(found: Sweep, label: str) -> SweepDetail:
    plan = found.plan
    attrs = found.study.user_attrs.get("nbtrack", {})
    ws = found.workspace
    best = found.best_trial
    linked = None if best is None else _trial(best, ws)
    n_trials = attrs.get("n_trials")
    return SweepDetail(
        name=found.name, storage=label, metric=plan.metric, goal=plan.goal,
        method=attrs.get("method_name"),
        n_trials=n_trials if isinstance(n_trials, int) else None,
        space=[_param(n, d) for n, d in plan.params.items()],
        best=None if best is None or best.value is None or linked is None else SweepBest(
            number=best.number, value=best.value, config=found.best_config,
            run_number=linked["run_number"], run_id=linked["run_id"]),
        trials=[_trial(o, ws) for o in found.outcomes()],
        importances=importances(found))
