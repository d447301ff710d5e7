"""A batch of jobs: one after another in this process (``jobs=1``) or in ``jobs`` worker
processes (``python -m nbtrack.jobs.worker``), stopped as a whole by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

from nbtrack.jobs.notebook import JobInputError
from nbtrack.jobs.runner import (
    NOT_STARTED,
    JobInterrupted,
    JobResult,
    JobSpec,
    run_job,
    source_root,
)

#: Seconds an interrupted worker gets to shut its kernel down and mark its run.
STOP_GRACE = 30.0


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the batch; ``results`` holds every job's result (runs that were
    running are ``interrupted``, jobs that never started are ``not started``)."""

    def __init__(self, results: list[JobResult]) -> None:
        super().__init__("batch interrupted")
        self.results = results


def _not_started(spec: JobSpec, error: str | None = None) -> JobResult:
    return JobResult(params=dict(spec.params), status=NOT_STARTED, name=spec.name, error=error)


def run_batch(specs: Sequence[JobSpec], jobs: int = 1,
              on_result: Callable[[JobResult], None] | None = None) -> list[JobResult]:
    """Run every job of ``specs`` (at most ``jobs`` at a time) and return their results in
    the order of ``specs``; ``on_result`` is called as each one ends. Ctrl-C raises
    :class:`BatchInterrupted` once the running jobs have been stopped and marked."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    if jobs == 1 or len(specs) == 1:
        return _in_process(specs, on_result)
    return _Pool(specs, jobs, on_result).run()


def _in_process(specs: Sequence[JobSpec],
                on_result: Callable[[JobResult], None] | None) -> list[JobResult]:
    results: list[JobResult] = []
    for index, spec in enumerate(specs):
        try:
            result = run_job(spec)
        except JobInterrupted as exc:
            results.append(exc.result)
            if on_result is not None:
                on_result(exc.result)
            results += [_not_started(s) for s in specs[index + 1:]]
            raise BatchInterrupted(results) from None
        except KeyboardInterrupt:
            results += [_not_started(s) for s in specs[index:]]
            raise BatchInterrupted(results) from None
        except JobInputError as exc:
            result = _not_started(spec, str(exc))
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


class _Worker:
    """One worker process (``python -m nbtrack.jobs.worker``), fed one job at a time through
    its stdin: started once, so its imports (papermill, jupyter_client) are paid once."""

    def __init__(self, tmp: Path, number: int) -> None:
        self.log = tmp / f"worker-{number}.log"
        env = dict(os.environ)
        root = source_root()
        if root is not None:  # the worker imports this same nbtrack
            env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        with self.log.open("wb") as log:
            # A session of its own: a terminal's Ctrl-C reaches the batch's process only,
            # which stops the workers itself (each interrupts its kernel, marks its run).
            self.process = subprocess.Popen(
                [sys.executable, "-m", "nbtrack.jobs.worker"], stdin=subprocess.PIPE,
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )
        self.job: int | None = None
        self.result_file: Path | None = None

    def give(self, index: int, spec_file: Path, result_file: Path) -> None:
        assert self.process.stdin is not None
        self.job, self.result_file = index, result_file
        self.process.stdin.write(f"{spec_file}\t{result_file}\n".encode())
        self.process.stdin.flush()

    def finished(self) -> bool:
        """True when the job given last has written its result or the process ended."""
        assert self.result_file is not None
        return self.result_file.exists() or self.process.poll() is not None

    def result(self, spec: JobSpec) -> JobResult:
        assert self.result_file is not None
        self.job = None
        try:
            return JobResult.from_json(self.result_file.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            self.process.wait()
            tail = self.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            return _not_started(spec, "the job's process ended with code "
                                f"{self.process.returncode}: " + " | ".join(tail[-3:]))

    def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except OSError:
                pass


class _Pool:
    """``jobs`` worker processes running the jobs in turn."""

    def __init__(self, specs: Sequence[JobSpec], jobs: int,
                 on_result: Callable[[JobResult], None] | None) -> None:
        self.specs = list(specs)
        self.jobs = jobs
        self.on_result = on_result
        self.results: list[JobResult | None] = [None] * len(self.specs)
        self.workers: list[_Worker] = []

    def run(self) -> list[JobResult]:
        pending = deque(range(len(self.specs)))
        with tempfile.TemporaryDirectory(prefix="nbtrack-batch-") as tmp:
            self.tmp = Path(tmp)
            try:
                self.workers = [_Worker(self.tmp, n) for n in range(min(self.jobs,
                                                                        len(self.specs)))]
                started = len(self.workers)
                while pending or any(w.job is not None for w in self.workers):
                    for slot, worker in enumerate(self.workers):
                        if worker.job is not None and worker.finished():
                            self._done(worker)
                        if worker.job is None and pending:
                            if worker.process.poll() is not None:  # it died: start another
                                started += 1
                                worker = self.workers[slot] = _Worker(self.tmp, started)
                            self._give(worker, pending.popleft())
                    time.sleep(0.05)
            except KeyboardInterrupt:
                self._stop()
                raise BatchInterrupted(self._all()) from None
            finally:
                for worker in self.workers:
                    worker.close()
                for worker in self.workers:
                    try:
                        worker.process.wait(timeout=STOP_GRACE)
                    except subprocess.TimeoutExpired:
                        worker.process.kill()
        return self._all()

    def _all(self) -> list[JobResult]:
        return [r if r is not None else _not_started(s) for r, s in zip(self.results, self.specs)]

    def _give(self, worker: _Worker, index: int) -> None:
        spec_file = self.tmp / f"job-{index}.json"
        spec_file.write_text(self.specs[index].to_json(), encoding="utf-8")
        worker.give(index, spec_file, self.tmp / f"result-{index}.json")

    def _done(self, worker: _Worker) -> None:
        index = worker.job
        assert index is not None
        result = worker.result(self.specs[index])
        self.results[index] = result
        if self.on_result is not None:
            self.on_result(result)

    def _stop(self) -> None:
        """Ask every worker to stop (SIGINT: a busy one interrupts its kernel and marks its
        run ``interrupted``), wait for them, then kill what is left."""
        for worker in self.workers:
            worker.close()
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + STOP_GRACE
        for worker in self.workers:
            try:
                worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except (subprocess.TimeoutExpired, KeyboardInterrupt):  # stuck, or another Ctrl-C
                worker.process.kill()
                worker.process.wait()
            if worker.job is not None:
                self._done(worker)


__all__ = ["BatchInterrupted", "run_batch"]
