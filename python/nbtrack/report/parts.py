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

    curves: CurveSpecs = field(default_factory=lambda: CurveSpecs())

    def chart(self, spec: Mapping[str, Any], mode: str = "vega-lite", label: str = "chart") -> str:
        self.charts += 1
        return (
            f'<figure class="chart" data-mode="{e(mode)}">'
            f'<div class="chart-view" role="img" aria-label="{e(label)}"></div>'
            f'<script type="application/json" class="chart-spec">{json_for_script(spec)}</script>'
            "</figure>"
        )


_SENTINEL = "\x00nbtrack-run-{}\x00"
#: Fields of a curve row that stay the same along one curve (the rest become columns).
_CURVE_KEYS = ("run", "run_id", "key")


class CurveSpecs:
    """Specs of :func:`nbtrack.charts.curves` for many charts, built fast and stored compactly.

    Building an Altair chart costs about 0.1 s and the report's charts differ only in data and
    run labels: one skeleton is built per shape (the keys and the number of runs) from
    stand-in series, and the real labels and rows (:func:`nbtrack.charts.curve_rows`) are put
    in. Rows are stored as one record per curve with ``step``/``value`` arrays and a Vega-Lite
    ``flatten`` transform, a third of the size of one record per point.
    """

    def __init__(self) -> None:
        self._skeletons: dict[tuple[tuple[str, ...], int], str] = {}

    def spec(self, series: Sequence[MetricSeries], labels: Mapping[str, str]) -> dict[str, Any]:
        from nbtrack.charts import DATA_NAME, curve_rows, curves, to_spec

        keys = list(dict.fromkeys(s["key"] for s in series))
        run_ids = list(dict.fromkeys(s["run_id"] for s in series))
        names = [labels.get(r, r) for r in run_ids]
        if len(set(names)) != len(names) or not keys:  # charts.py makes such labels unique
            return to_spec(curves(list(series), dict(labels)))
        shape = (tuple(keys), len(run_ids))
        text = self._skeletons.get(shape)
        if text is None:
            stand_in = [_stand_in(f"r{i}", key) for i in range(len(run_ids))
                        for key in (keys if i == 0 else keys[:1])]
            skeleton = to_spec(curves(stand_in, {f"r{i}": _SENTINEL.format(i)
                                                 for i in range(len(run_ids))}))
            skeleton.pop("datasets", None)
            text = self._skeletons[shape] = json.dumps(skeleton)
        for i, name in enumerate(names):
            text = text.replace(json.dumps(_SENTINEL.format(i))[1:-1], json.dumps(name)[1:-1])
        spec: dict[str, Any] = json.loads(text)
        rows = curve_rows(list(series), dict(labels))
        if spec.get("data") != {"name": DATA_NAME}:  # not the shape this was written for
            spec["datasets"] = {DATA_NAME: rows}
            return spec
        spec["datasets"] = {DATA_NAME: _columns(rows, keep_run_id='"run_id"' in text)}
        fields = sorted({k for row in rows for k in row if k not in _CURVE_KEYS})
        spec["transform"] = [{"flatten": fields}, *spec.get("transform", [])]
        return spec


def _stand_in(run_id: str, key: str) -> MetricSeries:
    return MetricSeries(run_id=run_id, key=key, step=[0], value=[0.0], time=[0.0], cell=[None],
                        count=1, step_min=0, step_max=0, downsampled=False)


def _short(value: Any) -> Any:
    """A float to 7 significant digits (the charts show 6): the data is half the size."""
    return float(f"{value:.7g}") if isinstance(value, float) else value


def _columns(rows: Sequence[Mapping[str, Any]], keep_run_id: bool) -> list[dict[str, Any]]:
    """Point rows -> one record per curve whose other fields are arrays (in point order)."""
    curves: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        ident = tuple(row.get(k) for k in _CURVE_KEYS)
        record = curves.get(ident)
        if record is None:
            record = curves[ident] = {k: row[k] for k in _CURVE_KEYS
                                      if k in row and (keep_run_id or k != "run_id")}
        for k, v in row.items():
            if k not in _CURVE_KEYS:
                record.setdefault(k, []).append(_short(v))
    return list(curves.values())
