"""The report's inlined assets (styles, scripts, the Vega bundle) and safe embedding of data.

Nothing in a report is loaded from elsewhere: the Vega bundle is inlined in a module script,
chart specs sit in ``<script type="application/json">`` blocks, and both are escaped so that
no text in them can end the script element early.
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from nbtrack import wire

HERE = Path(__file__).parent
STATIC = HERE.parent / "static"
BUNDLE = STATIC / "vega-bundle.js"
#: The global the inlined bundle's exports are put on (read by report.js).
BUNDLE_GLOBAL = "nbtrackVega"
#: What report.js uses from the bundle: charts are drawn without eval (the page's policy has no
#: 'unsafe-eval'), so Vega's expression interpreter and a CSV parser that compiles nothing.
REQUIRED_EXPORTS = ("vegaEmbed", "vega", "expressionInterpreter", "dsvFormat")


class ReportError(RuntimeError):
    """The report cannot be written (bad input or a missing build output)."""


class BundleMissingError(ReportError):
    """The offline Vega bundle was not built (a source checkout before its first build)."""


def e(value: object) -> str:
    """``value`` as HTML text, every special character escaped (quotes too)."""
    return html.escape("" if value is None else str(value), quote=True)


_SCRIPT_UNSAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                                "\u2028": "\\u2028", "\u2029": "\\u2029"})


def json_for_script(data: Any) -> str:
    """JSON text that is safe inside ``<script type="application/json">`` and parses back.

    ``<``, ``>`` and ``&`` are written as ``\\u003c`` etc., so ``</script>`` in a value cannot
    close the element. Non-finite numbers become null.
    """
    try:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:
        text = json.dumps(wire.finite(data), separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
    return text.translate(_SCRIPT_UNSAFE)


# In a script element the HTML parser ends the element at "</script", and "<!--" or "<script"
# change how it reads what follows. "\x3C" is "<" in JS strings, templates and regexes alike.
_JS_UNSAFE = re.compile(r"<(?=/script|!--|script)", re.IGNORECASE)


def inline_js(source: str) -> str:
    """JavaScript source made safe to place between ``<script>`` and ``</script>``."""
    return _JS_UNSAFE.sub(r"\\x3C", source)


def inline_css(source: str) -> str:
    """CSS made safe to place inside ``<style>``."""
    return re.sub(r"</(?=style)", r"<\\/", source, flags=re.IGNORECASE)


@lru_cache(maxsize=4)
def _read(path: Path, mtime: float) -> str:
    return path.read_text(encoding="utf-8")


def read_asset(name: str) -> str:
    """A file shipped beside this module (report.css, report.js)."""
    path = HERE / name
    return _read(path, path.stat().st_mtime)


_EXPORT = re.compile(r"export\s*\{([^{}]*)\}\s*;?\s*(?:/\*[\s\S]*?\*/\s*)*\Z")
_NAME = re.compile(r"^[A-Za-z_$][\w$]*$")


def vega_bundle_script(path: Path | None = None) -> str:
    """The Vega bundle (an ES module) with its exports also put on ``window.nbtrackVega``.

    An inline module cannot be imported from, so the bundle's final ``export {...}`` clause is
    read and mirrored as an assignment to a global the report's own script uses.
    """
    path = path or BUNDLE
    try:
        source = _read(path, path.stat().st_mtime)
    except OSError:
        raise BundleMissingError(
            f"nbtrack's offline Vega bundle is missing ({path}); the report needs it to draw "
            "charts. Build it with `npm ci && npm run build:vega` in the nbtrack source folder "
            "(or reinstall with `pip install -e .`, which builds it)."
        ) from None
    match = _EXPORT.search(source)
    if match is None:
        raise ReportError(
            f"{path} is not the ES module nbtrack expects (no final export clause); rebuild it "
            "with `npm run build:vega`."
        )
    exports: dict[str, str] = {}
    for part in match.group(1).split(","):
        local, _, exported = part.strip().partition(" as ")
        local, exported = local.strip(), (exported or local).strip()
        if _NAME.match(local) and _NAME.match(exported):
            exports[exported] = local
    exports.setdefault("vegaEmbed", exports.get("default", ""))
    lacking = [name for name in REQUIRED_EXPORTS if not exports.get(name)]
    if lacking:
        raise ReportError(
            f"{path} does not export {', '.join(lacking)} (an older build); rebuild it with "
            "`npm ci && npm run build:vega`."
        )
    body = ",".join(f"{json.dumps(k)}:{v}" for k, v in sorted(exports.items()))
    return inline_js(f"{source}\n;window.{BUNDLE_GLOBAL}=Object.freeze({{{body}}});\n")
