"""Notebooks as sweep objectives: each trial executes the notebook as a job
(:mod:`nbtrack.jobs`: papermill, a fresh kernel) with the trial's params injected after its
``parameters`` cell.

The job's run, started in the kernel by the job, is the trial's run: :func:`run_trial
<nbtrack.sweeps.trial.run_trial>` starts none for a :class:`NotebookObjective` (it is a
:class:`~nbtrack.sweeps.trial.RecordsItsRun`) and hands it the run's name and tags. The
trial's value is the metric's summary in that run once the job has ended; a notebook that
fails is a failed trial. Worker processes rebuild the objective from :meth:`NotebookObjective.ref`
(JSON), which the sweep keeps in its study, so ``nbtrack sweep worker NAME`` joins too.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nbtrack.sweeps.trial import OwnRun

__all__ = ["NotebookObjective", "is_notebook"]


def is_notebook(objective: Any) -> bool:
    """Whether ``objective`` names a notebook (a str or path ending in ``.ipynb``)."""
    return isinstance(objective, (str, os.PathLike)) and str(objective).endswith(".ipynb")


class NotebookObjective:
    """The notebook at ``path`` as a sweep objective: one job per trial.

    Parameters
    ----------
    path : the ``.ipynb`` file.
    params : fixed values injected in every trial (beside the trial's params, which win).
    kernel : the kernel (default: the notebook's, else ``python3``).
    timeout : seconds a cell may run before the trial's run fails.
    cwd : the kernel's working folder (default: the notebook's folder).

    Raises ``ValueError`` (:class:`nbtrack.jobs.JobInputError`) for a missing notebook or
    kernel.

    Examples
    --------
    >>> objective = NotebookObjective("train.ipynb", params={"epochs": 3}, timeout=600)
    >>> nbtrack.sweep(objective, {"lr": nbtrack.loguniform(1e-4, 1e-1)},
    ...               n_trials=20, n_jobs=2)  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike[str], *, params: Mapping[str, Any] | None = None,
                 kernel: str | None = None, timeout: float | None = None,
                 cwd: str | os.PathLike[str] | None = None) -> None:
        from nbtrack.jobs import notebook as nbmod

        self.path = Path(path).expanduser().resolve()
        source = nbmod.read_notebook(self.path)
        nbmod.kernel_of(source, kernel)  # a missing kernel is an error now, not per trial
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be positive seconds, not {timeout}")
        self.params = dict(params or {})
        self.kernel = kernel
        self.timeout = timeout
        self.cwd = str(Path(cwd).expanduser().resolve()) if cwd is not None else None
        self._warned = False

    def ref(self) -> str:
        """This objective as JSON, for :meth:`from_ref` in another process."""
        return json.dumps({"notebook": str(self.path), "params": self.params,
                           "kernel": self.kernel, "timeout": self.timeout, "cwd": self.cwd},
                          sort_keys=True)

    @classmethod
    def from_ref(cls, ref: str) -> NotebookObjective:
        """The objective :meth:`ref` describes; a ``.ipynb`` path is accepted too."""
        if is_notebook(ref):
            return cls(ref)
        try:
            data = json.loads(ref)
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("notebook"), str):
            raise ValueError(f"not a notebook objective: {ref!r}")
        return cls(data["notebook"], params=data.get("params"), kernel=data.get("kernel"),
                   timeout=data.get("timeout"), cwd=data.get("cwd"))

    def run_as(self, config: dict[str, Any], *, name: str, tags: list[str],
               workspace: Path) -> OwnRun:
        """Execute the notebook with ``{**params, **config}`` as the run ``name`` (see
        :class:`~nbtrack.sweeps.trial.RecordsItsRun`)."""
        from nbtrack.jobs import JobWarning, plan, run_job
        from nbtrack.jobs.runner import JobInterrupted

        job = plan(self.path, [{**self.params, **config}], name=name, tags=tags,
                   kernel=self.kernel, timeout=self.timeout, cwd=self.cwd, workspace=workspace)
        if not self._warned:  # the same notes for every trial: say them once
            self._warned = True
            for note in job.warnings:
                warnings.warn(note, JobWarning, stacklevel=2)
        try:
            result = run_job(job.specs[0])
        except JobInterrupted as exc:
            interrupted = exc.result
            exc.own_run = OwnRun("interrupted", interrupted.number,  # type: ignore[attr-defined]
                                 interrupted.id, interrupted.error)
            raise
        return OwnRun(result.status, result.number, result.id, result.error)

    def __repr__(self) -> str:
        return f"NotebookObjective({str(self.path)!r})"
