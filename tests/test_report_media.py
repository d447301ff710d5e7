"""The run report shows what a run logged beside its scalars: images, tables, histograms, audio,
text, HTML and figures, logged with real numpy, PIL, pandas, matplotlib, Altair and Plotly values,
then exported, parsed, and opened offline in Debian's Chromium."""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from PIL import Image as PILImage

import nbtrack
from nbtrack.report import export_report
from nbtrack.report import media as report_media
from test_report import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    XSS,
    Element,
    network_references,
    parse,
)

#: The sandboxed HTML value tries to run a script; its frame refuses (as it must).
_REFUSED_IN_FRAME = "Blocked script execution in 'about:srcdoc'"


@dataclass
class Logged:
    workspace: Path
    notebook: Path
    html: str


def _notebook(ws: Path, name: str = "media.ipynb") -> Path:
    path = ws / name
    nbformat.write(nbformat.v4.new_notebook(), path)
    return path


def _log_every_kind(ws: Path) -> None:
    """One run logging every kind, user text with markup in every place it can go."""
    import altair as alt
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    import plotly.graph_objects as go

    rng = np.random.default_rng(0)
    with nbtrack.init(name="media", notebook="media.ipynb", workspace=ws) as run:
        for step in range(5):
            shade = np.zeros((200, 300, 3))
            shade[..., 0] = step / 4  # a redder image each step
            run.log({
                "loss": 1.0 / (step + 1),
                "system/cpu_percent": 10.0 + step,
                "samples": nbtrack.Image(shade, caption=f"step {step} {XSS}"),
                "digits": [nbtrack.Image(PILImage.fromarray(
                    rng.integers(0, 255, (8, 8), dtype=np.uint8))) for _ in range(3)],
                "weights": nbtrack.Histogram(rng.normal(step, 1.0, 2000)),
            }, step=step)
        table = pd.DataFrame({"id": range(120), XSS: [f"cell {i} {XSS}" for i in range(120)]})
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([1, 3, 2])
        chart = alt.Chart(pd.DataFrame({"a": ["x", "y", "z"], "b": [3, 1, 2]})).mark_bar() \
            .encode(x="a:N", y="b:Q")
        t = np.linspace(0, 1, 8000, endpoint=False)
        run.log({
            "preds": nbtrack.Table(table),
            "voice": nbtrack.Audio(0.3 * np.sin(2 * np.pi * 440 * t), 8000, caption=XSS),
            "note": nbtrack.Text(f"generated: {XSS}"),
            "page": nbtrack.Html("<b>bold</b><script>alert(2)</script>"),
            "mpl": fig,
            "altair": chart,
            "plotly": go.Figure(data=[go.Scatter(y=[1, 2]), go.Bar(y=[2, 1])]),
        }, step=5)
        plt.close(fig)


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Logged]:
    ws = tmp_path_factory.mktemp("media-report")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBTRACK_DIR", str(ws))
        mp.delenv("NBTRACK_NOTEBOOK", raising=False)
        notebook = _notebook(ws)
        _log_every_kind(ws)
        html = export_report(notebook, workspace=ws).read_text()
        yield Logged(ws, notebook, html)
        nbtrack.finish()


def _key(html: str, key: str) -> str:
    """The part of the report showing media key ``key``."""
    start = html.index(f'<span class="media-name">{key}</span>')
    end = html.find('<div class="media-key"', start)
    return html[start:end if end != -1 else len(html)]


def _data(uri: str, mime: str) -> bytes:
    prefix = f"data:{mime};base64,"
    assert uri.startswith(prefix), uri[:60]
    return base64.b64decode(uri[len(prefix):])


def _imgs(part: str) -> list[Element]:
    return parse(part).find("img")


def test_the_latest_image_of_each_key_is_inlined_with_its_caption(logged: Logged) -> None:
    part = _key(logged.html, "samples")
    frames = [el for el in parse(part).elements if el.attrs.get("class") == "media-frame"]
    assert [f.attrs["data-step"] for f in frames] == ["0", "1", "2", "3", "4"]
    assert [("hidden" in f.attrs) for f in frames] == [True] * 4 + [False]
    latest = PILImage.open(io.BytesIO(_data(_imgs(part)[-1].attrs["src"], "image/png")))
    assert latest.size == (300, 200)  # the full image, not its thumbnail
    assert np.asarray(latest)[0, 0].tolist() == [255, 0, 0]  # step 4: red
    first = PILImage.open(io.BytesIO(_data(_imgs(part)[0].attrs["src"], "image/png")))
    assert max(first.size) == 128  # an earlier step: its thumbnail
    assert _imgs(part)[-1].attrs["alt"] == f"step 4 {XSS}"  # an attribute, escaped
    assert f"<figcaption>step 4 {XSS}" not in part
    assert "<figcaption>step 4 &lt;/script&gt;&lt;script&gt;alert(1)" in part
    # several images logged under one key at one step are shown together
    digits = _key(logged.html, "digits")
    visible = [el for el in parse(digits).elements if el.attrs.get("data-step") == "4"]
    assert len(visible) == 1 and digits.count("<img") == 15
    assert 'width="128"' in digits and "pixelated" in digits  # 8x8 drawn larger


def test_a_table_shows_its_first_rows_and_says_how_many_more(logged: Logged) -> None:
    part = _key(logged.html, "preds")
    page = parse(part)
    assert len(page.find("tr")) == 1 + report_media.TABLE_ROWS
    assert "70 more rows (of 120 rows and 2 columns)" in part
    assert "<script>" not in part  # the column name and every cell stay text
    assert "<td>cell 0 &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</td>" in part
    assert '<th scope="col">&lt;/script&gt;' in part


def test_a_histogram_is_a_bar_chart_of_the_latest_step_and_a_heatmap_over_steps(
    logged: Logged,
) -> None:
    specs = parse(_key(logged.html, "weights")).specs()
    bar, heat = specs
    assert len(bar["data"]["values"]) == 64  # the default bins
    assert sum(r["count"] for r in bar["data"]["values"]) == 2000
    assert sorted({r["step"] for r in heat["data"]["values"]}) == [0, 1, 2, 3, 4]


def test_audio_text_html_and_figures_are_shown_offline(logged: Logged) -> None:
    (audio,) = parse(_key(logged.html, "voice")).find("audio")
    with wave.open(io.BytesIO(_data(audio.attrs["src"], "audio/wav"))) as wav:
        assert (wav.getframerate(), wav.getnframes()) == (8000, 8000)
    assert "controls" in audio.attrs
    note = _key(logged.html, "note")
    assert "<pre class=\"media-text\">generated: &lt;/script&gt;&lt;script&gt;" in note
    (frame,) = parse(_key(logged.html, "page")).find("iframe")
    assert frame.attrs["sandbox"] == "allow-same-origin"  # no allow-scripts: nothing runs
    assert "<b>bold</b>" in frame.attrs["srcdoc"]
    (mpl,) = _imgs(_key(logged.html, "mpl"))
    assert PILImage.open(io.BytesIO(_data(mpl.attrs["src"], "image/png"))).width > 100
    (altair,) = parse(_key(logged.html, "altair")).specs()
    assert altair["mark"] == {"type": "bar"} and "$schema" not in altair
    assert "A Plotly figure with 2 traces" in _key(logged.html, "plotly")


def test_nothing_user_provided_becomes_markup_or_a_network_reference(logged: Logged) -> None:
    page = parse(logged.html)
    kinds = sorted({attrs.get("type", "") for attrs, _ in page.scripts})
    assert kinds == ["application/json", "module"]  # the report's own scripts and specs only
    assert all("alert(1)" not in text for attrs, text in page.scripts
               if attrs.get("type") == "module")
    assert network_references(page) == []
    assert "<script>alert(2)" not in logged.html  # the HTML value is only in its frame's srcdoc


def test_system_metrics_get_their_own_chart(logged: Logged) -> None:
    card = logged.html[logged.html.index('id="run-1"'):logged.html.index('class="media-part"')]
    own, system = parse(card).specs()
    assert {r["key"] for r in own["datasets"]["nbtrack"]} == {"loss"}
    assert {r["key"] for r in system["datasets"]["nbtrack"]} == {"system/cpu_percent"}
    assert '<h4 class="system-charts">System</h4>' in card


def test_the_report_policy_allows_data_media_and_nothing_more(logged: Logged) -> None:
    (meta,) = [el for el in parse(logged.html).find("meta")
               if el.attrs.get("http-equiv") == "Content-Security-Policy"]
    policy = dict(d.strip().split(" ", 1) for d in meta.attrs["content"].split(";"))
    assert policy["media-src"] == "data:"
    assert policy["img-src"] == "data: blob:"
    assert policy["script-src"] == "'unsafe-inline'" and policy["default-src"] == "'none'"


def test_the_media_inlined_in_one_report_is_capped_with_a_note(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = _notebook(workspace, "big.ipynb")
    rng = np.random.default_rng(1)
    for name in ("a", "b"):
        with nbtrack.init(name=name, notebook="big.ipynb") as run:
            for key in ("x", "y", "z"):  # noise: each PNG is about 190 KB
                run.log({key: nbtrack.Image(rng.integers(0, 255, (256, 256, 3), np.uint8))},
                        step=0)
    monkeypatch.setattr(report_media, "MAX_INLINE_BYTES", 600_000)
    html = export_report(notebook).read_text()
    inlined = [el.attrs["src"] for el in parse(html).find("img")]
    assert 1 <= len(inlined) < 6
    assert sum(len(src) for src in inlined) <= 600_000
    skipped = 6 - len(inlined)
    assert html.count("not shown: the report shows at most 0.572 MB of media") == skipped
    assert f"{skipped} media values were not inlined" in html


def test_an_image_logged_over_many_steps_slides_over_the_last_ones(workspace: Path) -> None:
    notebook = _notebook(workspace, "steps.ipynb")
    with nbtrack.init(name="steps", notebook="steps.ipynb") as run:
        for step in range(30):
            run.log({"img": nbtrack.Image(np.full((16, 16), step * 8, np.uint8))}, step=step)
    html = export_report(notebook).read_text()
    frames = [el for el in parse(html).elements if el.attrs.get("class") == "media-frame"]
    assert [int(f.attrs["data-step"]) for f in frames] == list(range(10, 30))
    assert "(10 earlier steps are not in the report)" in html
    (slider,) = parse(html).find("input", type="range")
    assert (slider.attrs["max"], slider.attrs["value"]) == ("19", "19")


def test_a_value_whose_bytes_are_gone_is_a_note_not_a_failure(workspace: Path) -> None:
    notebook = _notebook(workspace, "gone.ipynb")
    with nbtrack.init(name="gone", notebook="gone.ipynb") as run:
        run.log({"img": nbtrack.Image(np.zeros((4, 4), np.uint8)), "t": nbtrack.Text("hi")})
    for blob in (workspace / ".nbtrack" / "blobs").rglob("*"):
        if blob.is_file():
            blob.unlink()
    html = export_report(notebook).read_text()
    assert "This text is not shown: its bytes are missing from the store." in html
    assert "this image is not shown: its bytes are missing from the store." in html


def test_a_run_without_media_has_no_media_part(workspace: Path) -> None:
    notebook = _notebook(workspace, "plain.ipynb")
    with nbtrack.init(name="plain", notebook="plain.ipynb") as run:
        run.log({"loss": 1.0})
    html = export_report(notebook).read_text()
    assert 'class="media-part"' not in html and "media values were not inlined" not in html


# -- in a real browser with no network ----------------------------------------------------------

_WATCH_CSP = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(
  [document.URL, e.effectiveDirective, e.blockedURI].join(' ')));
"""


def _visible_images(page: Any, key: str) -> list[list[Any]]:
    return page.eval_on_selector_all(
        f".media-key:has(.media-name:text-is('{key}')) .media-frame:not([hidden]) img",
        "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.offsetWidth > 0])")


@pytest.mark.ui
def test_the_report_shows_images_charts_and_audio_offline_in_chromium(logged: Logged) -> None:
    from playwright import sync_api

    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM} (apt-get install chromium); "
                    'without it: pytest -m "not ui"', pytrace=False)
    ARTIFACTS.mkdir(exist_ok=True)
    report = logged.workspace / "media.report.html"
    report.write_text(logged.html)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_offline(True)
            context.add_init_script(_WATCH_CSP)
            requests: list[str] = []
            context.on("request", lambda r: requests.append(r.url))
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}")
                    if m.type in ("error", "warning") else None)
            page.goto(report.as_uri())
            page.wait_for_selector("html[data-charts=done]", state="attached", timeout=60_000)
            states = page.eval_on_selector_all(
                ".media-part figure.chart",
                "figs => figs.map(f => [f.dataset.state, f.querySelectorAll('.mark-rect path')"
                ".length > 0])")
            assert states == [["drawn", True]] * 3, states  # altair, histogram, heatmap
            for key in ("samples", "digits", "mpl"):
                shown = _visible_images(page, key) if key != "mpl" else page.eval_on_selector_all(
                    ".media-key:has(.media-name:text-is('mpl')) img",
                    "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.offsetWidth > 0])")
                assert shown and all(s[0] and s[1] > 0 and s[2] for s in shown), (key, shown)
            duration = page.evaluate(
                "() => new Promise((ok) => { const a = document.querySelector('audio');"
                " if (a.readyState >= 1) ok(a.duration);"
                " else a.addEventListener('loadedmetadata', () => ok(a.duration)); })")
            assert duration == pytest.approx(1.0, abs=0.01)
            # the slider shows an earlier step: its thumbnail, decoded
            slider = page.locator(".media-key:has(.media-name:text-is('samples')) input")
            slider.fill("1")
            assert page.eval_on_selector(
                ".media-key:has(.media-name:text-is('samples')) .media-frame:not([hidden])",
                "f => f.dataset.step") == "1"
            assert [s[1] for s in _visible_images(page, "samples")] == [128]
            slider.fill("4")
            page.locator(".media-part").first.screenshot(
                path=str(ARTIFACTS / "report-media.png"))
            assert page.evaluate("window.__violations") == []
            assert [e for e in errors if _REFUSED_IN_FRAME not in e] == []
            assert len(errors) == 1  # the HTML value's own <script>, refused
            assert [u for u in requests if not u.startswith(("file:", "data:", "about:"))] == []
        finally:
            browser.close()

