"""The job's side inside the kernel: the cell that starts the run, and what it watches.

:func:`cell_source` (runner side) writes the prologue cell a job adds at the top of the
notebook; that cell calls :func:`start` in the kernel, which loads the ``%track`` extension
(so every cell is recorded), starts the run with the job's params, and tells the runner the
run's number through a small file. Two cell hooks follow: after the injected parameters cell,
the parameters cell's settings are added to the run's params (the notebook's defaults for
the names no ``-p`` gave); a cell that raises finishes the run ``failed`` (``interrupted``
for an interrupt) before the kernel is shut down.

Only the standard library is imported here until :func:`start` runs.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import Any

#: The keys of a prologue spec (written by the runner, read by :func:`start`).
SPEC_KEYS = ("workspace", "notebook", "name", "tags", "params", "defaults", "injected",
             "handoff", "path")


def cell_source(spec: Mapping[str, Any]) -> str:
    """The code of the prologue cell for ``spec`` (see :data:`SPEC_KEYS`)."""
    lines = [
        "# nbtrack run: this cell (added by the job, not in the source notebook) starts the",
        "# tracked run with the job's parameters and records every cell below.",
    ]
    if spec.get("path"):  # a source checkout: import the same nbtrack as the runner
        lines += ["import sys as _nbtrack_sys",
                  f"_nbtrack_sys.path.insert(0, {spec['path']!r})",
                  "del _nbtrack_sys"]
    lines += ["from nbtrack.jobs import prologue as _nbtrack_job",
              f"_nbtrack_job.start({json.dumps(dict(spec), sort_keys=True)!r})",
              "del _nbtrack_job"]
    return "\n".join(lines) + "\n"


def start(spec_json: str) -> None:
    """Start the job's run in this kernel (see the module docstring)."""
    spec = json.loads(spec_json)
    os.environ["NBTRACK_DIR"] = spec["workspace"]
    os.environ["NBTRACK_NOTEBOOK"] = spec["notebook"]
    from IPython import get_ipython

    from nbtrack import session

    shell = get_ipython()
    if shell is not None:
        shell.run_line_magic("load_ext", "nbtrack")
    run = session.init(name=spec["name"], config=spec["params"], tags=spec["tags"],
                       notebook=spec["notebook"], workspace=spec["workspace"])
    tmp = spec["handoff"] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump({"number": run.number, "id": run.id}, handle)
    os.replace(tmp, spec["handoff"])
    if shell is not None:
        _Watch(shell, run, spec).register()


class _Watch:
    """The two cell hooks of a job's run (registered after nbtrack's own)."""

    def __init__(self, shell: Any, run: Any, spec: Mapping[str, Any]) -> None:
        self.shell = shell
        self.run = run
        self.injected: str = spec["injected"]
        self.defaults: list[str] = list(spec["defaults"])
        self.given = set(spec["params"])

    def register(self) -> None:
        self.shell.events.register("post_run_cell", self.post_run_cell)

    def post_run_cell(self, result: Any) -> None:
        try:
            self._post(result)
        except Exception as exc:  # noqa: BLE001 - never into the user's cell
            print(f"nbtrack: {exc!r}", file=sys.stderr)

    def _post(self, result: Any) -> None:
        if not self.run.live:
            return
        error = result.error_in_exec or result.error_before_exec
        if error is not None and not _clean_exit(error):
            self.run.finish("interrupted" if isinstance(error, KeyboardInterrupt) else "failed")
            return
        info = getattr(result, "info", None)
        if self.defaults and info is not None and info.raw_cell == self.injected:
            self._record_defaults()

    def _record_defaults(self) -> None:
        from nbtrack.capture import redacted
        from nbtrack.store.values import to_jsonable

        ns = self.shell.user_ns
        found = {name: redacted(name, to_jsonable(ns[name])) for name in self.defaults
                 if name in ns and name not in self.given}
        self.defaults = []
        if found:
            self.run.config.update(found)


def _clean_exit(error: BaseException) -> bool:
    """``sys.exit()``/``sys.exit(0)`` in a cell ends the notebook without failing it."""
    return isinstance(error, SystemExit) and error.code in (None, 0)


__all__ = ["SPEC_KEYS", "cell_source", "start"]
