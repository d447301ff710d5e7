"""Notebooks as jobs: run a notebook with parameters as one tracked run, in batches and in
parallel (``nbtrack run``, :func:`nbtrack.run_notebook`, :func:`nbtrack.run_notebooks`).

papermill executes the notebook in a fresh kernel; papermill and the kernel machinery are
imported only when a job runs.
"""

from __future__ import annotations

from nbtrack.jobs.api import JobError, JobWarning, plan, run_notebook, run_notebooks
from nbtrack.jobs.batch import BatchInterrupted, run_batch
from nbtrack.jobs.notebook import JobInputError
from nbtrack.jobs.runner import JobResult, JobSpec, run_job

__all__ = ["BatchInterrupted", "JobError", "JobInputError", "JobResult", "JobSpec", "JobWarning",
           "plan", "run_batch", "run_job", "run_notebook", "run_notebooks"]
