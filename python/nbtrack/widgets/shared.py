"""What every inline widget shares: the offline Vega bundle, its ES module text, the text fallback.

Charts are drawn with the offline Vega bundle (``static/vega-bundle.js``): it is sent to the
page once per kernel in a shared :class:`VegaLib` model that every chart widget points at,
instead of riding in each widget's ``_esm``.

anywidget loads a widget's ``_esm`` from a Blob URL, where relative ``import`` statements cannot
resolve (manzt/anywidget#78), so the JavaScript helpers every widget uses
(``static/widgets/shared.js``) are put in front of each widget's own module when its class is
defined (:func:`esm`).
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anywidget
import traitlets as t
from ipywidgets import widget_serialization

from nbtrack import charts, wire
from nbtrack.model import MetricSeries, run_label
from nbtrack.store.downsample import downsample

STATIC = Path(__file__).resolve().parents[1] / "static"
#: The widgets' ES modules and style sheet.
WIDGETS_STATIC = STATIC / "widgets"
BUNDLE = STATIC / "vega-bundle.js"
#: Points per series in the charts of cards and tables.
CHART_POINTS = 1000
#: Metric keys drawn at most in a card's or a table's chart.
CHART_KEYS = 6


class BundleMissingError(RuntimeError):
    """The offline Vega bundle was not built (a source checkout before its first build)."""


def _read(name: str) -> str | None:
    try:
        return (WIDGETS_STATIC / name).read_text(encoding="utf-8")
    except OSError:  # pragma: no cover - a broken install; the widget says so
        return None


def esm(name: str) -> str:
    """The ES module of one widget (``static/widgets/<name>``), with the shared helpers first."""
    shared, own = _read("shared.js"), _read(name)
    if shared is None or own is None:  # pragma: no cover - a broken install
        message = f"nbtrack: static/widgets/{name} is missing from the installed package"
        return f"export default {{ render({{ el }}) {{ el.textContent = {message!r}; }} }};\n"
    return f"{shared}\n// ---- {name} ----\n{own}"


def css() -> str:
    """The widgets' style sheet (JupyterLab theme variables with neutral fallbacks)."""
    return _read("widgets.css") or ""


def in_notebook() -> bool:
    """True inside a Jupyter kernel (``$NBTRACK_WIDGETS=1``/``0`` forces the answer)."""
    forced = os.environ.get("NBTRACK_WIDGETS", "").strip().lower()
    if forced:
        return forced not in ("0", "false", "no", "off")
    app = sys.modules.get("ipykernel.kernelapp")
    return bool(app is not None and app.IPKernelApp.initialized())


# -- the shared Vega library ------------------------------------------------------------------

class VegaLib(anywidget.AnyWidget):
    """Carries the offline Vega bundle to the page once; never displayed itself."""

    _esm = "export default {};\n"
    source = t.Unicode().tag(sync=True)
    version = t.Unicode().tag(sync=True)


_lib: VegaLib | None = None
_lib_lock = threading.Lock()


def vega_lib() -> VegaLib:
    """The kernel's :class:`VegaLib` (made on first use).

    Raises :class:`BundleMissingError` naming the build command when the bundle is missing.
    """
    global _lib
    with _lib_lock:
        if _lib is None or _lib.comm is None:
            try:
                source = BUNDLE.read_text(encoding="utf-8")
            except OSError:
                raise BundleMissingError(
                    f"nbtrack's offline Vega bundle is missing ({BUNDLE}). Build it with "
                    "`npm ci && npm run build:vega` in the nbtrack source folder (or reinstall "
                    "with `pip install -e .`, which builds it)."
                ) from None
            version = hashlib.sha256(source.encode()).hexdigest()[:16]
            _lib = VegaLib(source=source, version=version)
        return _lib


# -- base classes -----------------------------------------------------------------------------

def _execution_count() -> int | None:
    """The running cell's execution count (None outside IPython); never imports IPython."""
    getter = getattr(sys.modules.get("IPython"), "get_ipython", None)
    shell = getter() if getter is not None else None
    return getattr(shell, "execution_count", None)


class Widget(anywidget.AnyWidget):
    """An nbtrack widget: the shared style sheet, and shown once by :func:`show` per cell.

    ``table = nbtrack.show_runs()`` displays the table and returns it; when that call is the
    cell's last expression, IPython would display the returned widget a second time, so a
    widget that :func:`show` displayed skips the next display in the same cell.
    """

    _css = css()
    _shown_in: int | None = None

    def _ipython_display_(self) -> None:
        count = self._shown_in
        self._shown_in = None
        if count is not None and count == _execution_count():
            return
        display = getattr(sys.modules.get("IPython.display"), "display", None)
        bundle = self._repr_mimebundle_()
        if display is not None and bundle is not None:
            data, metadata = bundle
            display(data, metadata=metadata, raw=True)


class ChartWidget(Widget):
    """A widget that draws Vega-Lite charts with the shared offline bundle."""

    _vega = t.Instance(VegaLib, allow_none=True).tag(sync=True, **widget_serialization)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("_vega", vega_lib())
        super().__init__(**kwargs)


def show(view: Any) -> None:
    """Display ``view`` in the notebook now (print it outside one)."""
    display = getattr(sys.modules.get("IPython.display"), "display", None)
    if display is None or isinstance(view, TextView) or not in_notebook():
        print(view)
        return
    display(view)
    if isinstance(view, Widget):
        view._shown_in = _execution_count()


# -- plain data for traits --------------------------------------------------------------------

def jsonable(value: Any) -> Any:
    """A JSON-safe copy: NaN and infinities become None, tuples lists, unknown objects text."""
    return wire.finite(value, default=str)


#: ``#3 baseline``: how every view names a run.
label = run_label


def curves_spec(series: Sequence[MetricSeries], labels: Mapping[str, str]) -> dict[str, Any]:
    """The Vega-Lite spec of a card's or a table's curves: a few keys, a bounded point count."""
    keys: list[str] = []
    for s in series:
        if s["key"] not in keys:
            keys.append(s["key"])
    keys = keys[:CHART_KEYS]
    shown = [s if s["count"] <= CHART_POINTS else downsample(s, CHART_POINTS)
             for s in series if s["key"] in keys]
    if not shown:
        return {}
    return charts.to_spec(charts.curves(shown, labels))


# -- text fallback ----------------------------------------------------------------------------

class TextView:
    """What the widget functions return outside a notebook: the view as plain text."""

    def __init__(self, text: str, *, selected: Sequence[str] = ()) -> None:
        self.text = text
        self.selected: list[str] = list(selected)
        self.selected_runs: list[Any] = []

    def stop(self) -> None:
        """Nothing to stop (kept so code written for widgets runs in scripts)."""

    def close(self) -> None:
        """Nothing to close."""

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text
