"""``python -m nbtrack.jobs.worker``: a worker process of a parallel batch.

Reads one job per line on stdin (``SPEC.json<TAB>RESULT.json``), runs it, writes its
:class:`~nbtrack.jobs.runner.JobResult` to ``RESULT.json`` (atomically), and waits for the
next one until stdin closes. SIGINT interrupts the running job (its kernel is interrupted and
shut down, its run marked ``interrupted``; the result is written all the same) and ends the
worker.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nbtrack.jobs.notebook import JobInputError
from nbtrack.jobs.runner import NOT_STARTED, JobInterrupted, JobResult, JobSpec, run_job


def run_one(spec_file: Path, result_file: Path) -> bool:
    """Run one job and write its result; False when it was interrupted."""
    spec = JobSpec.from_json(spec_file.read_text(encoding="utf-8"))
    going_on = True
    try:
        result = run_job(spec)
    except JobInterrupted as exc:
        result, going_on = exc.result, False
    except KeyboardInterrupt:
        result = JobResult(params=spec.params, status=NOT_STARTED, name=spec.name)
        going_on = False
    except JobInputError as exc:
        result = JobResult(params=spec.params, status=NOT_STARTED, name=spec.name,
                           error=str(exc))
    tmp = result_file.with_suffix(".tmp")
    tmp.write_text(result.to_json(), encoding="utf-8")
    tmp.replace(result_file)
    return going_on


def main() -> int:
    try:
        for line in sys.stdin:
            spec_file, _, result_file = line.rstrip("\n").partition("\t")
            if not run_one(Path(spec_file), Path(result_file)):
                return 130
    except KeyboardInterrupt:  # stopped while waiting for a job
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
