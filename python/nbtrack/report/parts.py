"""Shared pieces of the report page: value formatting, run chips, chart figures, the TOC."""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nbtrack.model import MetricSeries
from nbtrack.report.assets import e, json_for_script
from nbtrack.report.data import RunData

#: Metric keys that read better when lower (losses, errors, times); the rest: higher is better.
_LOWER_IS_BETTER = re.compile(
    r"loss|err|mse|mae|rmse|nll|perplexity|ppl|wer|cer|regret|latency|time|duration", re.I
)


def fmt_time(ts: float | None) -> str:
    if ts is None:
        return "—"
    return _dt.datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def fmt_number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return f"{value:.6g}"
    return str(value)


def fmt_param(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, float):
        return fmt_number(value)
    return "None" if value is None else str(value)


def lower_is_better(key: str) -> bool:
    return bool(_LOWER_IS_BETTER.search(key))


def status_badge(status: str) -> str:
    return f'<span class="status status-{e(status)}">{e(status)}</span>'


def run_link(run: RunData) -> str:
    return (f'<a class="run-chip status-{e(run.record["status"])}" href="#{run.anchor}">'
            f"{e(run.label)}</a>")


# -- the page -----------------------------------------------------------------------------------

@dataclass
class Page:
    """State while a page is built: chart count (to know whether Vega is needed), TOC."""

    charts: int = 0
    toc: list[tuple[int, str, str]] = field(default_factory=list)  # (level, anchor, text)

    def chart(self, spec: Mapping[str, Any], mode: str = "vega-lite", label: str = "chart") -> str:
        self.charts += 1
        return (
            f'<figure class="chart" data-mode="{e(mode)}">'
            f'<div class="chart-view" role="img" aria-label="{e(label)}"></div>'
            f'<script type="application/json" class="chart-spec">{json_for_script(spec)}</script>'
            "</figure>"
        )


def curves_spec(series: Sequence[MetricSeries], labels: Mapping[str, str]) -> dict[str, Any]:
    from nbtrack.charts import curves, to_spec

    return to_spec(curves(list(series), dict(labels)))
