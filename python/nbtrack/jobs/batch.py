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


class _Pool:
    """At most ``jobs`` worker processes, each running one job and writing its result."""

    def __init__(self, specs: Sequence[JobSpec], jobs: int,
                 on_result: Callable[[JobResult], None] | None) -> None:
        self.specs = list(specs)
        self.jobs = jobs
        self.on_result = on_result
        self.results: list[JobResult | None] = [None] * len(self.specs)
        self.running: dict[int, tuple[subprocess.Popen[bytes], Path, Path]] = {}

    def run(self) -> list[JobResult]:
        pending = deque(range(len(self.specs)))
        with tempfile.TemporaryDirectory(prefix="nbtrack-batch-") as tmp:
            self.tmp = Path(tmp)
            try:
                while pending or self.running:
                    while pending and len(self.running) < self.jobs:
                        self._start(pending.popleft())
                    self._collect()
                    time.sleep(0.05)
            except KeyboardInterrupt:
                self._stop()
                raise BatchInterrupted(self._all()) from None
        return self._all()

    def _all(self) -> list[JobResult]:
        return [r if r is not None else _not_started(s) for r, s in zip(self.results, self.specs)]

    def _start(self, index: int) -> None:
        spec_file = self.tmp / f"job-{index}.json"
        spec_file.write_text(self.specs[index].to_json(), encoding="utf-8")
        result_file = self.tmp / f"result-{index}.json"
        log_file = self.tmp / f"job-{index}.log"
        env = dict(os.environ)
        root = source_root()
        if root is not None:  # the worker imports this same nbtrack
            env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        with log_file.open("wb") as log:
            # A session of its own: a terminal's Ctrl-C reaches this process only, which
            # stops the workers itself (each then interrupts its kernel and marks its run).
            process = subprocess.Popen(
                [sys.executable, "-m", "nbtrack.jobs.worker", str(spec_file), str(result_file)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True,
            )
        self.running[index] = (process, result_file, log_file)

    def _collect(self) -> None:
        for index, (process, _result, _log) in list(self.running.items()):
            if process.poll() is not None:
                self._done(index)

    def _done(self, index: int) -> None:
        process, result_file, log_file = self.running.pop(index)
        try:
            result = JobResult.from_json(result_file.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            tail = log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            result = _not_started(self.specs[index], "the job's process ended with code "
                                  f"{process.returncode}: " + " | ".join(tail[-3:]))
        self.results[index] = result
        if self.on_result is not None:
            self.on_result(result)

    def _stop(self) -> None:
        """Ask every worker to stop (SIGINT: it interrupts its kernel, marks its run
        ``interrupted``), wait for them, then kill what is left."""
        for process, _result, _log in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + STOP_GRACE
        for index, (process, _result, _log) in list(self.running.items()):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            except KeyboardInterrupt:  # another Ctrl-C: stop waiting
                process.kill()
                process.wait()
            self._done(index)


__all__ = ["BatchInterrupted", "run_batch"]
