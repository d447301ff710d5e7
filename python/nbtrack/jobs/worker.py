"""``python -m nbtrack.jobs.worker SPEC.json RESULT.json``: one job of a parallel batch.

Reads the :class:`~nbtrack.jobs.runner.JobSpec`, runs it, writes the
:class:`~nbtrack.jobs.runner.JobResult`. SIGINT interrupts the job (its kernel is interrupted
and shut down, its run marked ``interrupted``); the result is written all the same.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nbtrack.jobs.notebook import JobInputError
from nbtrack.jobs.runner import NOT_STARTED, JobInterrupted, JobResult, JobSpec, run_job


def main(argv: list[str]) -> int:
    spec_file, result_file = Path(argv[0]), Path(argv[1])
    spec = JobSpec.from_json(spec_file.read_text(encoding="utf-8"))
    code = 0
    try:
        result = run_job(spec)
    except JobInterrupted as exc:
        result, code = exc.result, 130
    except KeyboardInterrupt:
        result, code = JobResult(params=spec.params, status=NOT_STARTED, name=spec.name), 130
    except JobInputError as exc:
        result, code = JobResult(params=spec.params, status=NOT_STARTED, name=spec.name,
                                 error=str(exc)), 2
    tmp = result_file.with_suffix(".tmp")
    tmp.write_text(result.to_json(), encoding="utf-8")
    tmp.replace(result_file)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
