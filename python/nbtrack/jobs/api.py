"""The Python side of notebook jobs: :func:`run_notebook` and :func:`run_notebooks`, and
:func:`plan`, which checks a batch before anything runs (also used by ``nbtrack run``)."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbtrack import config
from nbtrack.jobs import notebook as nbmod
from nbtrack.jobs.batch import run_batch
from nbtrack.jobs.group import default_group
from nbtrack.jobs.params import combinations
from nbtrack.jobs.runner import JobResult, JobSpec, run_job
from nbtrack.run import Run, check_tags


class JobError(RuntimeError):
    """A job's run never started (its kernel could not start nbtrack, for instance)."""


class JobWarning(UserWarning):
    """Something about a job's input worth knowing; the job runs all the same."""


@dataclass
class Plan:
    """The jobs of one ``nbtrack run`` (or API call), checked, with what to warn about."""

    specs: list[JobSpec]
    group: str | None
    warnings: list[str] = field(default_factory=list)


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def plan(
    path: str | os.PathLike[str],
    combos: Sequence[Mapping[str, Any]],
    *,
    batch: bool = False,
    name: str | None = None,
    tags: Iterable[str] = (),
    group: str | None = None,
    output: str | os.PathLike[str] | None = None,
    kernel: str | None = None,
    timeout: float | None = None,
    cwd: str | os.PathLike[str] | None = None,
    workspace: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> Plan:
    """One :class:`JobSpec` per params in ``combos``; a batch (``batch=True`` or more than one
    combination) shares a group and numbers its runs ``<name>-1``, ``<name>-2``...; its
    ``output`` is a folder receiving ``<run name>.ipynb`` files.

    Raises :class:`nbtrack.jobs.notebook.JobInputError` (a ``ValueError``) for a missing
    notebook or kernel.
    """
    notebook = Path(path).expanduser().resolve()
    source = nbmod.read_notebook(notebook)
    kernel_name = nbmod.kernel_of(source, kernel)
    if timeout is not None and timeout <= 0:
        raise ValueError(f"timeout must be positive seconds, not {timeout}")
    folder = Path(cwd).expanduser().resolve() if cwd is not None else notebook.parent
    if not folder.is_dir():
        raise nbmod.JobInputError(f"no folder at {folder} (--cwd)")
    ws = Path(workspace).expanduser().resolve() if workspace else config.workspace_dir()
    tag_list = check_tags(tags)
    batch = batch or len(combos) > 1
    group_name = (group or default_group(notebook.stem)) if batch else group
    base = name or notebook.stem
    notes: list[str] = []
    names = sorted({key for combo in combos for key in combo})
    unknown = nbmod.unknown_names(source, names)
    if unknown:
        notes.append(f"{notebook.name} never uses {', '.join(unknown)}: the parameter"
                     f"{'s are' if len(unknown) > 1 else ' is'} set, but nothing reads "
                     f"{'them' if len(unknown) > 1 else 'it'}")
    if names and nbmod.parameters_cell(source) is None:
        notes.append(f"{notebook.name} has no cell tagged 'parameters': the parameters are "
                     "injected at the top")
    specs = []
    for index, combo in enumerate(combos, start=1):
        run_name = f"{base}-{index}" if batch else base
        out = None
        if output is not None:
            out_path = Path(output).expanduser().resolve()
            out = str(out_path / f"{_SAFE.sub('_', run_name)}.ipynb") if batch else str(out_path)
        specs.append(JobSpec(
            notebook=str(notebook), params=dict(combo), workspace=str(ws), name=run_name,
            tags=list(tag_list), group=group_name, output=out, kernel=kernel_name,
            timeout=timeout, cwd=str(folder), progress=progress and not batch,
        ))
    return Plan(specs, group_name, notes)


def _runs(results: Sequence[JobResult], workspace: Path) -> list[Run]:
    path = config.db_path(workspace)
    runs = []
    for result in results:
        if result.number is not None and result.id is not None:
            run = Run(path, result.number, result.id)
            run.refresh()
            runs.append(run)
    return runs


def _warn(notes: Sequence[str]) -> None:
    for note in notes:
        warnings.warn(note, JobWarning, stacklevel=3)


def run_notebook(
    path: str | os.PathLike[str],
    params: Mapping[str, Any] | None = None,
    *,
    name: str | None = None,
    tags: Iterable[str] = (),
    output: str | os.PathLike[str] | None = None,
    kernel: str | None = None,
    timeout: float | None = None,
    cwd: str | os.PathLike[str] | None = None,
    group: str | None = None,
    workspace: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> Run:
    """Execute the notebook at ``path`` in a fresh kernel with ``params`` as one tracked run
    and return the run (finished, or ``failed`` when a cell raised: see its ``status`` and
    ``notes``).

    Parameters
    ----------
    path : the ``.ipynb`` file.
    params : values injected after the cell tagged ``parameters`` (at the top when there is
        none) and recorded as the run's params, with the parameters cell's other settings.
    name : the run's name (default: the notebook's stem).
    tags : the run's tags.
    output : also write the executed notebook (outputs included) there; it is always kept
        with the run as an artifact of type ``notebook``.
    kernel : the kernel (default: the notebook's, else ``python3``).
    timeout : seconds a cell may run before the run ends ``failed``.
    cwd : the kernel's working folder (default: the notebook's folder).
    group : a group for the run (a ``group=<name>`` tag), as batches have.
    workspace : the workspace recording the run (default: ``$NBTRACK_DIR`` or the lookup).
    progress : show a progress bar of the cells on stderr.

    Raises ``ValueError`` (:class:`~nbtrack.jobs.notebook.JobInputError`) for a missing
    notebook or kernel, :class:`JobError` when the run could not start in the kernel, and
    ``KeyboardInterrupt`` on Ctrl-C (after shutting the kernel down and marking the run
    ``interrupted``).

    Examples
    --------
    >>> run = nbtrack.run_notebook("train.ipynb", params={"lr": 0.1})  # doctest: +SKIP
    >>> run.status, run.params["lr"], run.summary["loss"]  # doctest: +SKIP
    ('finished', 0.1, 0.23)
    """
    job = plan(path, [dict(params or {})], name=name, tags=tags, group=group, output=output,
               kernel=kernel, timeout=timeout, cwd=cwd, workspace=workspace, progress=progress)
    _warn(job.warnings)
    result = run_job(job.specs[0])
    runs = _runs([result], Path(job.specs[0].workspace))
    if not runs:
        raise JobError(f"the run of {Path(path).name} did not start: {result.error}")
    return runs[0]


def run_notebooks(
    path: str | os.PathLike[str],
    grid: Mapping[str, Sequence[Any]] | None = None,
    rows: Sequence[Mapping[str, Any]] | None = None,
    *,
    params: Mapping[str, Any] | None = None,
    jobs: int = 1,
    name: str | None = None,
    tags: Iterable[str] = (),
    group: str | None = None,
    output: str | os.PathLike[str] | None = None,
    kernel: str | None = None,
    timeout: float | None = None,
    cwd: str | os.PathLike[str] | None = None,
    workspace: str | os.PathLike[str] | None = None,
) -> list[Run]:
    """Run the notebook once per parameter set, ``jobs`` at a time, as one group of runs;
    return the runs in order (a job whose run never started is left out).

    The parameter sets are each of ``rows`` (default: one empty row) times each combination
    of ``grid`` (the cartesian product of its value lists), over the fixed ``params``. The
    runs share a group (``group``, default ``<notebook stem>-<date>-<time>``; a
    ``group=<name>`` tag) and are named ``<name>-1``, ``<name>-2``...; ``output`` is a folder
    receiving each executed notebook. Other arguments as :func:`run_notebook`.

    Ctrl-C stops the batch: the running kernels are shut down, their runs marked
    ``interrupted``, and :class:`nbtrack.jobs.batch.BatchInterrupted` (a ``KeyboardInterrupt``
    carrying every job's result) is raised.

    Examples
    --------
    >>> runs = nbtrack.run_notebooks("train.ipynb", grid={"lr": [0.1, 0.01],
    ...                              "batch": [32, 64]}, jobs=2)  # doctest: +SKIP
    >>> [(r.params["lr"], r.params["batch"], r.status) for r in runs]  # doctest: +SKIP
    """
    combos = combinations(params, grid, rows)
    job = plan(path, combos, batch=True, name=name, tags=tags, group=group, output=output,
               kernel=kernel, timeout=timeout, cwd=cwd, workspace=workspace)
    _warn(job.warnings)
    results = run_batch(job.specs, jobs)
    return _runs(results, Path(job.specs[0].workspace))


__all__ = ["JobError", "JobWarning", "Plan", "plan", "run_notebook", "run_notebooks"]
