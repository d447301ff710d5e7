"""One job: execute a notebook with parameters, in a fresh kernel through papermill, as one
tracked run; keep the executed notebook with the run and record how it ended.

The run itself is started inside the kernel (:mod:`nbtrack.jobs.prologue`), so every cell is
recorded as in a notebook a user runs; this side owns the kernel and the final word on the
run's status (a cell that raised: ``failed`` with the cell and the error in the notes; a
timeout: ``failed``; a kernel that died: ``crashed``; Ctrl-C: ``interrupted``).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbtrack import config
from nbtrack.jobs import notebook as nbmod
from nbtrack.jobs import prologue
from nbtrack.jobs.group import group_tag
from nbtrack.source_scan import scan
from nbtrack.store import access, writes
from nbtrack.store.values import to_jsonable

#: The statuses a job's run can end with (as everywhere in nbtrack), and "not started" for a
#: job whose run never began (its kernel failed to start, or the batch was stopped first).
NOT_STARTED = "not started"


@dataclass
class JobSpec:
    """What one job runs: the notebook, its params and where the run is recorded."""

    notebook: str  # absolute path
    params: dict[str, Any]
    workspace: str  # absolute path of the folder holding .nbtrack/
    name: str | None = None
    tags: list[str] = field(default_factory=list)
    group: str | None = None
    output: str | None = None
    kernel: str | None = None
    timeout: float | None = None
    cwd: str | None = None
    progress: bool = False

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> JobSpec:
        return cls(**json.loads(text))


@dataclass
class JobResult:
    """How a job ended. ``cell`` is the 1-based position of the failing cell in the source
    notebook; ``artifact`` the executed notebook's artifact version (``"train.ipynb:v3"``)."""

    params: dict[str, Any]
    status: str
    number: int | None = None
    id: str | None = None
    name: str | None = None
    error: str | None = None
    cell: int | None = None
    artifact: str | None = None
    output: str | None = None
    duration: float = 0.0

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> JobResult:
        return cls(**json.loads(text))


class JobInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a job: its run is marked ``interrupted``; ``result`` says which."""

    def __init__(self, result: JobResult) -> None:
        super().__init__("interrupted")
        self.result = result


def source_root() -> str | None:
    """The folder to put first on a kernel's ``sys.path`` so it imports this same nbtrack
    (a source checkout), or None when nbtrack is installed."""
    root = Path(__file__).resolve().parents[2]
    return None if root.name in ("site-packages", "dist-packages") else str(root)


def relative_notebook(notebook: Path, workspace: Path) -> str:
    """The notebook path a run records: relative to the workspace when inside it."""
    try:
        return notebook.resolve().relative_to(workspace).as_posix()
    except ValueError:
        return notebook.resolve().as_posix()


@dataclass
class _Outcome:
    status: str = "finished"
    error: str | None = None
    cell: int | None = None
    interrupted: bool = False


def run_job(spec: JobSpec) -> JobResult:
    """Execute ``spec`` and return how it ended; raise :class:`JobInterrupted` (after marking
    the run ``interrupted`` and shutting the kernel down) on Ctrl-C, and
    :class:`nbtrack.jobs.notebook.JobInputError` for a missing notebook or kernel."""
    began = time.time()
    notebook = Path(spec.notebook)
    workspace = Path(spec.workspace)
    source = nbmod.read_notebook(notebook)
    kernel = nbmod.kernel_of(source, spec.kernel)
    params = {k: to_jsonable(v) for k, v in spec.params.items()}
    tags = [*spec.tags, *([group_tag(spec.group)] if spec.group else [])]
    with tempfile.TemporaryDirectory(prefix="nbtrack-job-") as tmp:
        handoff = Path(tmp) / "run.json"
        executed = Path(tmp) / notebook.name
        index = nbmod.parameters_cell(source)
        defaults = sorted(scan(source.cells[index].source).config) if index is not None else []
        run_name = spec.name or notebook.stem
        prologue_spec = {
            "workspace": str(workspace), "notebook": relative_notebook(notebook, workspace),
            "name": run_name, "tags": tags, "params": params,
            "defaults": defaults, "injected": nbmod.injected_source(source, kernel, params),
            "handoff": str(handoff), "path": source_root(),
        }
        prepared = nbmod.prepare(source, kernel, params, prologue.cell_source(prologue_spec))
        outcome = _execute(prepared, executed, spec)
        started = _read_handoff(handoff)
        result = JobResult(params=params, status=outcome.status if started else NOT_STARTED,
                           error=outcome.error, cell=outcome.cell,
                           name=run_name)
        if started is not None:
            result.number, result.id = started
            _finish_run(workspace, result.number, outcome)
            if executed.is_file():
                result.artifact = _keep_notebook(workspace, result.number, executed, spec,
                                                 kernel, params, outcome)
        elif outcome.error is None:
            result.error = "the run did not start in the kernel"
        if spec.output and executed.is_file():
            out = Path(spec.output).expanduser()
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(executed, out)
            result.output = str(out.resolve())
    result.duration = time.time() - began
    if outcome.interrupted:
        raise JobInterrupted(result)
    return result


def _execute(prepared: nbmod.Prepared, executed: Path, spec: JobSpec) -> _Outcome:
    """Run the prepared notebook through papermill in a kernel this function owns."""
    import papermill
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    km = AsyncKernelManager(kernel_name=prepared.kernel)
    outcome = _Outcome()
    stop_first = False
    try:
        papermill.execute_notebook(
            prepared.nb, str(executed), kernel_name=prepared.kernel,
            progress_bar=spec.progress, request_save_on_cell_execute=False,
            cwd=spec.cwd or str(Path(spec.notebook).parent),
            execution_timeout=spec.timeout, km=km,
        )
    except PapermillExecutionError as exc:
        cell = prepared.source_index(exc.cell_index)
        outcome = _Outcome("failed", f"{exc.ename}: {exc.evalue}",
                           None if cell is None else cell + 1)
        where = f"cell {outcome.cell}" if outcome.cell is not None else "the job's own cell"
        outcome.error = f"failed in {where} (In [{exc.exec_count}]): {outcome.error}"
    except CellTimeoutError as exc:
        stop_first = True
        outcome = _Outcome("failed", f"a cell ran past the --timeout of {spec.timeout:g} s: "
                           f"{exc}".strip() if spec.timeout else str(exc))
    except DeadKernelError as exc:
        outcome = _Outcome("crashed", f"the kernel died: {exc}")
    except KeyboardInterrupt:
        stop_first = True
        outcome = _Outcome("interrupted", "interrupted (Ctrl-C)", interrupted=True)
    except Exception as exc:  # noqa: BLE001 - the kernel failed to start, and the like
        stop_first = True
        outcome = _Outcome("failed", f"{type(exc).__name__}: {exc}")
    finally:
        try:
            if km.has_kernel:
                if stop_first:  # the cell ends with KeyboardInterrupt: the run sees it
                    run_sync(km.interrupt_kernel)()
                    time.sleep(0.5)
                run_sync(km.shutdown_kernel)(now=False)
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting for the kernel
            if km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
            outcome.interrupted = True
            outcome.status = "interrupted"
    return outcome


def _read_handoff(path: Path) -> tuple[int, str] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return int(data["number"]), str(data["id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _finish_run(workspace: Path, number: int, outcome: _Outcome) -> None:
    """Set the run's final status (and the error in its notes) now that its kernel is gone."""
    db = config.db_path(workspace)
    now = time.time()
    with access.writing(db, create=False) as conn:
        row = conn.execute("SELECT status, ended, notes FROM runs WHERE number = ?",
                           (number,)).fetchone()
        if row is None:
            return
        status, ended, notes = row
        fields: dict[str, Any] = {}
        if outcome.status != "finished" or status == "running":
            fields["status"] = outcome.status
        if ended is None:
            fields.update(ended=now, heartbeat=now)
        if outcome.error:
            fields["notes"] = f"{notes}\n{outcome.error}" if notes else outcome.error
        if fields:
            writes.update_run(conn, number, fields)


def _keep_notebook(workspace: Path, number: int, executed: Path, spec: JobSpec, kernel: str,
                   params: dict[str, Any], outcome: _Outcome) -> str | None:
    """Log the executed notebook as an artifact of type ``notebook`` produced by the run."""
    from nbtrack.artifacts.artifact import log_artifact
    from nbtrack.recorder import warn

    try:
        version = log_artifact(
            config.db_path(workspace), executed, name=executed.name, type="notebook",
            run=number, description=f"{executed.name} as the run executed it",
            metadata={"source": relative_notebook(Path(spec.notebook), workspace),
                      "parameters": params, "kernel": kernel, "status": outcome.status,
                      "cell": outcome.cell},
        )
    except (ValueError, OSError) as exc:
        warn(f"nbtrack could not keep the executed notebook with run {number}: {exc}")
        return None
    return version.ref


__all__ = ["NOT_STARTED", "JobInterrupted", "JobResult", "JobSpec", "relative_notebook",
           "run_job", "source_root"]
