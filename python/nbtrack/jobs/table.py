"""The table printed at the end of a batch: each job's run, status, params and key metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from nbtrack import config, text
from nbtrack.jobs.runner import JobResult
from nbtrack.model import RunRecord
from nbtrack.store import access, queries

#: Metric columns shown at most (system metrics never).
MAX_METRICS = 4


def records_of(results: Sequence[JobResult], workspace: Path) -> dict[int, RunRecord]:
    """The run records of the results that have a run, by number."""
    numbers = [r.number for r in results if r.number is not None]
    path = config.db_path(workspace)
    if not numbers or not path.exists():
        return {}
    with access.reading(path) as db:
        return {rec["number"]: rec for rec in queries.run_records(db, numbers)}


def batch_table(results: Sequence[JobResult], records: Mapping[int, RunRecord]) -> str:
    """``#  name  status  <params that vary>  <metrics>  duration``, one row per job."""
    params: list[str] = []
    for result in results:
        for key in result.params:
            if key not in params:
                params.append(key)
    if len(results) > 1:  # only the params that differ between the jobs
        params = [k for k in params
                  if len({repr(r.params.get(k)) for r in results}) > 1] or params
    metrics: list[str] = []
    for shown in records.values():
        for key in shown["summary"]:
            if key not in metrics and not key.startswith("system/"):
                metrics.append(key)
    metrics = metrics[:MAX_METRICS]
    rows = []
    for result in results:
        record = records.get(result.number) if result.number is not None else None
        summary = record["summary"] if record is not None else {}
        rows.append([
            str(result.number) if result.number is not None else "-",
            text.fmt_value(result.name or "-", 30),
            record["status"] if record is not None else result.status,
            *(text.fmt_value(result.params[k], 12) if k in result.params else "-"
              for k in params),
            *(text.fmt_value(summary.get(k), 12) if k in summary else "-" for k in metrics),
            text.fmt_duration(result.duration),
        ])
    return text.table(["#", "name", "status", *params, *metrics, "duration"], rows)


def counts_line(results: Sequence[JobResult], records: Mapping[int, RunRecord]) -> str:
    """``4 runs: 3 finished, 1 failed``."""
    counts: dict[str, int] = {}
    for result in results:
        record = records.get(result.number) if result.number is not None else None
        status = record["status"] if record is not None else result.status
        counts[status] = counts.get(status, 0) + 1
    parts = ", ".join(f"{n} {status}" for status, n in counts.items())
    return f"{len(results)} run{'s' * (len(results) != 1)}: {parts}"


__all__ = ["batch_table", "counts_line", "records_of"]
