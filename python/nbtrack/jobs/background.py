"""Jobs started in the background by a long-lived process (the Jupyter server): each in its
own worker process (``python -m nbtrack.jobs.worker``), followed by id until it ends.

The jobs of this process are kept in memory: a restarted server forgets them (their runs,
and the executed notebooks, are in the store all the same).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from nbtrack.jobs.runner import NOT_STARTED, JobResult, JobSpec, relative_notebook, source_root
from nbtrack.model import JobRecord


class JobNotFound(LookupError):
    """No job of this process has that id."""


@dataclass
class _Job:
    id: str
    spec: JobSpec
    folder: Path
    process: subprocess.Popen[bytes]
    started: float
    warnings: list[str]
    result: JobResult | None = None


_jobs: dict[str, _Job] = {}
_lock = threading.Lock()


def start(spec: JobSpec, warnings: list[str] | None = None) -> JobRecord:
    """Start ``spec`` in a worker process and return its record (``running``)."""
    folder = Path(tempfile.mkdtemp(prefix="nbtrack-job-"))
    spec_file = folder / "spec.json"
    spec_file.write_text(spec.to_json(), encoding="utf-8")
    env = dict(os.environ)
    root = source_root()
    if root is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    with (folder / "job.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "nbtrack.jobs.worker"], stdin=subprocess.PIPE, stdout=log,
            stderr=subprocess.STDOUT, env=env, start_new_session=True)
    assert process.stdin is not None
    process.stdin.write(f"{spec_file}\t{folder / 'result.json'}\n".encode())
    process.stdin.close()
    job = _Job(secrets.token_hex(8), spec, folder, process, time.time(), list(warnings or []))
    with _lock:
        _jobs[job.id] = job
    return record(job.id)


def record(job_id: str) -> JobRecord:
    """The job's record now (:class:`JobNotFound` for an unknown id)."""
    with _lock:
        job = _jobs.get(job_id)
    if job is None:
        raise JobNotFound(f"no job {job_id!r} (jobs are forgotten when the server restarts)")
    _settle(job)
    result = job.result
    notebook = relative_notebook(Path(job.spec.notebook), Path(job.spec.workspace))
    return JobRecord(
        id=job.id, status=result.status if result is not None else "running",
        notebook=notebook, params=dict(job.spec.params), name=job.spec.name,
        run=result.number if result else None, run_id=result.id if result else None,
        error=result.error if result else None, cell=result.cell if result else None,
        artifact=result.artifact if result else None, started=job.started,
        duration=result.duration if result else None, warnings=job.warnings,
    )


def _settle(job: _Job) -> None:
    """Read the job's result once its process has ended, then drop its folder."""
    if job.result is not None or job.process.poll() is None:
        return
    try:
        job.result = JobResult.from_json((job.folder / "result.json").read_text("utf-8"))
    except (OSError, ValueError, TypeError):
        log = (job.folder / "job.log").read_text("utf-8", errors="replace").strip()
        job.result = JobResult(params=dict(job.spec.params), status=NOT_STARTED,
                               name=job.spec.name, error="the job's process ended with code "
                               f"{job.process.returncode}: " + " | ".join(log.splitlines()[-3:]))
    shutil.rmtree(job.folder, ignore_errors=True)


__all__ = ["JobNotFound", "record", "start"]
