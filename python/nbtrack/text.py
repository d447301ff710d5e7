"""Plain-text views of runs and diffs, for reprs, ``%track list`` and the CLI."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

from nbtrack.model import RunDiffRecord, RunRecord, run_label


def fmt_value(value: Any, width: int = 24) -> str:
    """A short text form of a param or metric value."""
    if value is None:
        return "-"
    if isinstance(value, float):
        text = f"{value:.6g}"
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def fmt_time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return _dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def fmt_bytes(count: float | None, sign: bool = False) -> str:
    """A byte count in B, KB, MB, GB or TB (1 KB = 1024 B); ``sign``: with a leading +."""
    if count is None:
        return "-"
    value, unit = float(count), "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            break
        value /= 1024
    text = f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
    return f"+{text}" if sign and count > 0 else text


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def runs_table(
    records: Sequence[RunRecord], total: int | None = None, metrics: int = 3,
    first: Sequence[str] = (),
) -> str:
    """The runs as an aligned table: number, name, status, start, duration, tags, metrics
    (the ``first`` metric keys, then others up to ``metrics`` columns)."""
    if not records:
        return "no runs recorded in this workspace yet"
    keys: list[str] = list(first)
    metrics = max(metrics, len(keys))
    for r in records:
        for k in r["summary"]:
            if k not in keys:
                keys.append(k)
    keys = keys[:metrics]
    headers = ["#", "name", "status", "started", "duration", "tags", *keys]
    rows = [
        [
            str(r["number"]), fmt_value(r["name"], 30), r["status"], fmt_time(r["started"]),
            fmt_duration(r["duration"]), ",".join(r["tags"]) or "-",
            *(fmt_value(r["summary"].get(k), 12) for k in keys),
        ]
        for r in records
    ]
    text = table(headers, rows)
    if total is not None and total > len(records):
        text += f"\n({len(records)} of {total} runs)"
    return text


def diff_text(record: RunDiffRecord, show_all: bool = False) -> str:
    """A readable diff of runs: differing params, metric deltas, changed cells and variables."""
    names = [run_label(r) for r in record["runs"]]
    out = ["diff of " + " vs ".join(names)]
    params = [d for d in record["params"] if show_all or not d["equal"]]
    out.append("\nparams" + ("" if show_all else " (differing)") + ":")
    if params:
        out.append(table(["param", *names],
                         [[d["key"], *(fmt_value(v) for v in d["values"])] for d in params]))
    else:
        out.append("  (all equal)")
    if record["metrics"]:
        out.append("\nmetrics:")
        out.append(table(
            ["metric", *names, "delta"],
            [[d["key"], *(fmt_value(v) for v in d["values"]), fmt_value(d["delta"])]
             for d in record["metrics"]],
        ))
    changed = [c for c in record["cells"] if not c["equal"]]
    out.append(f"\ncells: {len(record['cells']) - len(changed)} same, {len(changed)} changed")
    for c in changed:
        out.append(c["diff"].rstrip() or "(cell only in one run)")
    variables = [v for v in record["variables"] if not v["equal"]]
    if variables:
        out.append("\nvariables:")
        out.append(table(["name", names[0], names[-1]],
                         [[v["name"], fmt_value(v["a"], 40), fmt_value(v["b"], 40)]
                          for v in variables]))
    env = [d for d in record["env"] if not d["equal"]]
    if env:
        out.append("\nenvironment:")
        out.append(table(["key", *names], [[d["key"], *(fmt_value(v, 40) for v in d["values"])]
                                          for d in env]))
    return "\n".join(out)
