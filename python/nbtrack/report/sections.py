"""The report's sections about runs: a card per run, the comparison, the environment."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from nbtrack.media.inline import Budget
from nbtrack.report import cells as nbcells
from nbtrack.report.assets import e
from nbtrack.report.data import RunData, StoreView, environment_key
from nbtrack.report.media import budget_note, media_part, report_budget
from nbtrack.report.parts import (
    Page,
    fmt_duration,
    fmt_number,
    fmt_param,
    fmt_time,
    lower_is_better,
    run_link,
    status_badge,
)
from nbtrack.store.downsample import downsample

#: Points per panel of the overlaid curves, shared by the runs (at least the minimum each).
OVERLAY_POINTS = 2400
OVERLAY_MIN_POINTS = 100
#: Keys of the system metrics (CPU, memory, GPU...): charted apart from the run's own.
SYSTEM_PREFIX = "system/"
#: Packages shown first in the environment when a run has them.
KEY_PACKAGES = (
    "nbtrack", "numpy", "pandas", "polars", "scipy", "scikit-learn", "torch", "torchvision",
    "tensorflow", "keras", "jax", "jaxlib", "flax", "transformers", "datasets", "accelerate",
    "xgboost", "lightgbm", "catboost", "statsmodels", "pyarrow", "matplotlib", "altair",
    "ipykernel", "jupyterlab",
)
_MODULE_PACKAGES = {"sklearn": "scikit-learn", "cv2": "opencv-python", "PIL": "pillow",
                    "yaml": "pyyaml", "skimage": "scikit-image", "bs4": "beautifulsoup4"}
_IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", re.M)

# -- runs ---------------------------------------------------------------------------------------

def runs_section(view: StoreView, page: Page) -> str:
    page.toc.append((1, "runs", "Runs"))
    if not view.runs:
        where = f" ({e(view.store)})" if view.store else ""
        return (
            '<section id="runs"><h2>Runs</h2><p class="note no-runs">No runs were recorded '
            f"from this notebook in the workspace store{where}. Runs are matched by the "
            "notebook path they were recorded with; to include runs explicitly, pass "
            "<code>runs=[...]</code> (<code>nbtrack report --runs REF,...</code>).</p></section>"
        )
    cards = []
    budget = report_budget()  # one cap on the media bytes inlined, shared by every card
    counts = {c["id"]: c["execution_count"] for c in view.executions}
    for run in view.runs:
        page.toc.append((2, run.anchor, run.label))
        cards.append(_run_card(run, page, budget, counts))
    cards.append(budget_note(budget))
    hint = ('<p class="hint">In each metrics table the better of min and max is in bold: lower '
            "for losses, errors and times, higher for the rest.</p>")
    return f'<section id="runs"><h2>Runs</h2>{hint}{"".join(cards)}</section>'


def _artifacts_part(run: RunData, counts: Mapping[int, int | None]) -> str:
    """What the run used and produced: ref, type and the cell (its execution count)."""
    rows = []
    for direction, links in (("used", run.artifacts["inputs"]),
                             ("produced", run.artifacts["outputs"])):
        for link in links:
            count = counts.get(link["cell"]) if link["cell"] is not None else None
            cell = f"[{e(count)}]" if count is not None else "—"
            rows.append(f'<tr class="artifact-{direction}"><td>{direction}</td>'
                        f"<td><code>{e(link['ref'])}</code></td><td>{e(link['type'])}</td>"
                        f"<td>{e(link['version'])}</td><td>{cell}</td></tr>")
    if not rows:
        return ""
    return ('<div class="run-artifacts"><h4>Artifacts</h4><table class="grid"><thead><tr>'
            "<th>run</th><th>artifact</th><th>type</th><th>version</th><th>cell</th></tr>"
            f'</thead><tbody>{"".join(rows)}</tbody></table></div>')


def _run_card(run: RunData, page: Page, budget: Budget,
              counts: Mapping[int, int | None]) -> str:
    r = run.record
    facts = [
        ("Started", e(fmt_time(r["started"]))),
        ("Duration", e(fmt_duration(r["duration"]))),
        ("Run id", f"<code>{e(r['id'])}</code>"),
    ]
    if r["tags"]:
        facts.append(("Tags", " ".join(f'<span class="tag">{e(t)}</span>' for t in r["tags"])))
    if r["host"]:
        facts.append(("Host", e(r["host"])))
    facts_html = "".join(f'<li><span class="label">{k}</span> {v}</li>' for k, v in facts)
    notes = f'<p class="run-notes">{e(r["notes"])}</p>' if r["notes"] else ""
    params = "".join(
        f'<tr><th scope="row">{e(k)}</th><td>{e(fmt_param(v))}</td></tr>'
        for k, v in sorted(r["params"].items())
    ) or '<tr><td class="empty" colspan="2">no params</td></tr>'
    metrics = _metrics_table(run)
    chart = ""
    if run.series:
        labels = {r["id"]: run.label}
        own = [s for s in run.series if not s["key"].startswith(SYSTEM_PREFIX)]
        system = [s for s in run.series if s["key"].startswith(SYSTEM_PREFIX)]
        if own:
            chart = page.chart(page.curves.spec(own, labels), label=f"curves of {run.label}")
        if system:
            chart += ('<h4 class="system-charts">System</h4>' + page.chart(
                page.curves.spec(system, labels), label=f"system metrics of {run.label}"))
    elif not run.summaries:
        chart = '<p class="note">No metrics were logged in this run.</p>'
    return (
        f'<article class="run-card" id="{e(run.anchor)}">'
        f'<header><h3><span class="run-number">#{r["number"]}</span> {e(r["name"])}</h3>'
        f"{status_badge(r['status'])}</header>"
        f'<ul class="run-facts">{facts_html}</ul>{notes}'
        '<div class="card-tables">'
        f'<div><h4>Params</h4><table class="kv">{params}</table></div>'
        f"<div><h4>Metrics</h4>{metrics}</div></div>"
        f"{_artifacts_part(run, counts)}{chart}"
        f"{media_part(run.media, run.label, page, budget)}</article>"
    )


def _metrics_table(run: RunData) -> str:
    if not run.summaries:
        return '<p class="empty">no metrics</p>'
    rows = []
    for s in run.summaries:
        low = lower_is_better(s["key"])
        lo, hi = fmt_number(s["min"]), fmt_number(s["max"])
        lo_cell = f"<strong>{e(lo)}</strong>" if low else e(lo)
        hi_cell = e(hi) if low else f"<strong>{e(hi)}</strong>"
        step = f' <span class="step">@{e(s["last_step"])}</span>' if s["last_step"] is not None \
            else ""
        rows.append(
            f'<tr><th scope="row">{e(s["key"])}</th><td>{e(fmt_number(s["value"]))}{step}</td>'
            f"<td>{lo_cell}</td><td>{hi_cell}</td><td>{e(s['count'])}</td></tr>"
        )
    return (
        '<table class="metrics"><thead><tr><th>key</th><th>final</th><th>min</th><th>max</th>'
        f'<th>points</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


# -- comparison ---------------------------------------------------------------------------------

def _same(values: Sequence[Any]) -> bool:
    first = values[0]
    return all(type(v) is type(first) and v == first for v in values[1:])


def comparison_section(view: StoreView, page: Page) -> str:
    page.toc.append((1, "comparison", "Comparison"))
    runs = view.runs
    keys = sorted(set().union(*(r.record["params"] for r in runs)))
    missing = object()
    differing: list[str] = []
    same: list[str] = []
    for key in keys:
        values = [r.record["params"].get(key, missing) for r in runs]
        (same if missing not in values and _same(values) else differing).append(key)
    if differing:
        head = "".join(f'<th scope="col">{e(k)}</th>' for k in differing)
        body = "".join(
            f"<tr><th scope=\"row\">{run_link(r)}</th>" + "".join(
                f"<td>{e(fmt_param(r.record['params'][k]))}</td>" if k in r.record["params"]
                else '<td class="empty">—</td>' for k in differing) + "</tr>"
            for r in runs
        )
        params = (f'<div class="scroll"><table class="grid"><thead><tr><th>run</th>{head}</tr>'
                  f"</thead><tbody>{body}</tbody></table></div>")
    else:
        params = '<p class="note">Every run has the same params.</p>'
    if same:
        shared = ", ".join(f"{e(k)} = {e(fmt_param(runs[0].record['params'][k]))}" for k in same)
        params += f'<p class="hint">Same in every run: {shared}</p>'
    metrics = _metric_grid(runs)
    shared_keys = sorted(
        k for k in {s["key"] for r in runs for s in r.series}
        if sum(1 for r in runs if any(s["key"] == k for s in r.series)) > 1
    )
    chart = ""
    if shared_keys:
        # Fewer points per curve when many runs share a panel: it stays readable and small.
        per_curve = max(OVERLAY_MIN_POINTS, OVERLAY_POINTS // len(runs))
        series = [downsample(s, per_curve) for r in runs for s in r.series
                  if s["key"] in shared_keys]
        labels = {r.record["id"]: r.label for r in runs}
        chart = ("<h3>Curves, overlaid</h3>" +
                 page.chart(page.curves.spec(series, labels), label="curves of every run"))
    return (f'<section id="comparison"><h2>Comparison</h2><h3>Params that differ</h3>{params}'
            f"<h3>Final metrics</h3>{metrics}{chart}</section>")


def _metric_grid(runs: Sequence[RunData]) -> str:
    keys = sorted({s["key"] for r in runs for s in r.summaries})
    if not keys:
        return '<p class="note">No metrics were logged.</p>'
    values = {(r.number, s["key"]): s["value"] for r in runs for s in r.summaries}
    best: dict[str, float] = {}
    for key in keys:
        nums = [v for r in runs if isinstance(v := values.get((r.number, key)), (int, float))
                and not isinstance(v, bool) and math.isfinite(v)]
        if len(nums) > 1:
            best[key] = min(nums) if lower_is_better(key) else max(nums)
    head = "".join(
        f'<th scope="col" title="{"lower" if lower_is_better(k) else "higher"} is better">'
        f'{e(k)} {"↓" if lower_is_better(k) else "↑"}</th>' for k in keys)
    rows = []
    for r in runs:
        tds = []
        for key in keys:
            v = values.get((r.number, key))
            text = e(fmt_number(v)) if (r.number, key) in values else "—"
            tds.append(f"<td><strong>{text}</strong></td>" if key in best and v == best[key]
                       else f"<td>{text}</td>")
        rows.append(f'<tr><th scope="row">{run_link(r)}</th>{"".join(tds)}</tr>')
    return (f'<div class="scroll"><table class="grid"><thead><tr><th>run</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>'
            '<p class="hint">The best value of each metric among the runs is in bold.</p>')


# -- environment --------------------------------------------------------------------------------

def _imported_packages(cells: Sequence[Mapping[str, Any]]) -> set[str]:
    names: set[str] = set()
    for cell in cells:
        if cell.get("cell_type") == "code":
            for module in _IMPORT.findall(nbcells.text_of(cell.get("source"))):
                names.add(_MODULE_PACKAGES.get(module, module))
    return {_norm_pkg(n) for n in names}


def _norm_pkg(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def environment_section(view: StoreView, cells: Sequence[Mapping[str, Any]]) -> str:
    if not view.runs:
        return ""
    groups: dict[str, list[RunData]] = {}
    for run in view.runs:
        if run.env:
            groups.setdefault(environment_key(run.env), []).append(run)
    unrecorded = [r for r in view.runs if not r.env]
    if not groups:
        return ('<section id="environment"><h2>Environment</h2><p class="note">No environment '
                "was recorded for these runs.</p></section>")
    wanted = {_norm_pkg(p) for p in KEY_PACKAGES} | _imported_packages(cells)
    blocks = []
    for runs in groups.values():
        blocks.append(_environment_block(runs, wanted, len(groups) > 1))
    note = ""
    if unrecorded:
        note = ('<p class="hint">No environment recorded for ' +
                ", ".join(run_link(r) for r in unrecorded) + ".</p>")
    return f'<section id="environment"><h2>Environment</h2>{"".join(blocks)}{note}</section>'


def _environment_block(runs: Sequence[RunData], wanted: set[str], several: bool) -> str:
    env = runs[0].env
    rows: list[tuple[str, str]] = []
    if several:
        rows.append(("Runs", " ".join(run_link(r) for r in runs)))
    rows.append(("Python", e(env.get("python_version") or env.get("python") or "—")))
    for key, label in (("platform", "Platform"), ("host", "Host"), ("executable", "Executable")):
        if env.get(key):
            rows.append((label, e(env[key])))
    machine = []
    if env.get("cpu_count"):
        machine.append(f"{env['cpu_count']} CPUs")
    if env.get("memory_bytes"):
        machine.append(f"{env['memory_bytes'] / 2**30:.1f} GiB memory")
    if env.get("gpu"):
        machine.append(", ".join(str(g) for g in env["gpu"]))
    if machine:
        rows.append(("Machine", e(" · ".join(machine))))
    git = env.get("git") if isinstance(env.get("git"), Mapping) else None
    diff = ""
    if git:
        commit = git.get("commit") or "no commit yet"
        parts = [f"<code>{e(commit)}</code>"]
        if git.get("branch"):
            parts.append(f"on <code>{e(git['branch'])}</code>")
        if git.get("remote"):
            parts.append(f"({e(git['remote'])})")
        if git.get("dirty"):
            parts.append('<span class="status status-failed">uncommitted changes</span>')
        rows.append(("Git", " ".join(parts)))
        if git.get("diff"):
            lines = str(git["diff"]).count("\n")
            diff = (f'<details class="git-diff"><summary>Uncommitted changes ({lines} lines of '
                    f'<code>git diff</code>)</summary><pre>{e(git["diff"])}</pre></details>')
    found = env.get("packages")
    packages: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    key_rows = "".join(
        f'<tr><th scope="row">{e(name)}</th><td>{e(version)}</td></tr>'
        for name, version in packages.items() if _norm_pkg(name) in wanted
    )
    facts = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    every = ", ".join(f"{e(n)}=={e(v)}" for n, v in packages.items())
    all_packages = (f'<details class="packages"><summary>All {len(packages)} installed packages'
                    f"</summary><p class=\"package-list\">{every}</p></details>"
                    if packages else "")
    key_table = (f'<h4>Key packages</h4><table class="kv">{key_rows}</table>' if key_rows
                 else "")
    return (f'<div class="env-block"><dl class="facts">{facts}</dl>{diff}{key_table}'
            f"{all_packages}</div>")
