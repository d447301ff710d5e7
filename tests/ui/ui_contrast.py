"""Text contrast as a reader sees it: computed colours from the page, the WCAG ratio in Python.

``text_contrasts(page, selector)`` takes every visible element under ``selector`` that shows
text of its own (disabled controls aside: WCAG exempts them), reads its computed text colour,
and walks up its ancestors to the first opaque background, blending the semi-transparent ones
(and ``opacity``) on the way, as the browser paints them. ``contrast_ratio`` is WCAG 2's ratio
of relative luminances (1 to 21; body text needs at least 4.5, large text 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

RGBA = tuple[float, float, float, float]  # 0-255 channels, alpha 0-1

#: For each visible element with text of its own (or a text field): its text colour (an SVG
#: text's fill), and the background colour and opacity of it and each ancestor, innermost first.
_READ_COLOURS = """(root) => {
  const shown = (el) => {
    const style = getComputedStyle(el);
    return el.getClientRects().length > 0 && style.visibility !== 'hidden'
      && style.display !== 'none';
  };
  const ownText = (el) => [...el.childNodes]
    .filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent.trim()).join(' ');
  const typed = 'input:not([type]), input[type=text], input[type=search], input[type=number]';
  const out = [];
  for (const el of [root, ...root.querySelectorAll('*')]) {
    const control = el.matches(`${typed}, select, textarea`);
    const text = control ? (el.value || '') : ownText(el);
    // WCAG exempts inactive controls (a disabled button) from the contrast minimum.
    if (!text || !shown(el) || el.closest(':disabled')) continue;
    const style = getComputedStyle(el);
    // SVG text (Vega's axes and legends) is painted with fill, not color.
    const svg = el instanceof SVGElement;
    const color = svg ? style.fill : style.color;
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const style = getComputedStyle(e);
      layers.push([style.backgroundColor, parseFloat(style.opacity)]);
    }
    const name = el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    out.push({element: name, text: text.slice(0, 40), color, layers, svg,
              fillOpacity: svg ? parseFloat(style.fillOpacity) : 1});
  }
  return out;
}"""

_RGB = re.compile(r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)")
_SRGB = re.compile(r"color\(srgb\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)(?:\s*/\s*([\d.]+%?))?\s*\)")


def _alpha(text: str | None) -> float:
    if not text:
        return 1.0
    return float(text[:-1]) / 100 if text.endswith("%") else float(text)


def parse_color(css: str) -> RGBA:
    """A computed CSS colour (``rgb()``, ``rgba()``, ``color(srgb ...)``, ``transparent``)."""
    css = css.strip()
    if css == "transparent":
        return (0.0, 0.0, 0.0, 0.0)
    if match := _RGB.fullmatch(css):
        r, g, b, a = match.groups()
        return (float(r), float(g), float(b), _alpha(a))
    if match := _SRGB.fullmatch(css):
        r, g, b, a = match.groups()
        return (float(r) * 255, float(g) * 255, float(b) * 255, _alpha(a))
    raise ValueError(f"cannot read the computed colour {css!r}")


def over(top: RGBA, bottom: RGBA) -> RGBA:
    """``top`` painted over the opaque colour ``bottom`` (source-over), opaque."""
    a = top[3]
    return (top[0] * a + bottom[0] * (1 - a), top[1] * a + bottom[1] * (1 - a),
            top[2] * a + bottom[2] * (1 - a), 1.0)


def luminance(color: RGBA) -> float:
    """WCAG 2 relative luminance of an opaque sRGB colour."""
    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = color
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast_ratio(a: RGBA, b: RGBA) -> float:
    """WCAG 2 contrast ratio of two opaque colours, from 1 (same) to 21 (black on white)."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@dataclass(frozen=True)
class TextContrast:
    """What one element's text looks like against what is painted behind it."""

    element: str
    text: str
    color: RGBA
    background: RGBA
    svg: bool = False  # SVG text: a chart's axis or legend label

    @property
    def ratio(self) -> float:
        return contrast_ratio(self.color, self.background)

    def __str__(self) -> str:
        def rgb(c: RGBA) -> str:
            return "#{:02x}{:02x}{:02x}".format(*(round(v) for v in c[:3]))

        return (f"{self.ratio:5.2f}:1  {rgb(self.color)} on {rgb(self.background)}  "
                f"{self.element} {self.text!r}")


def _seen(item: dict[str, Any]) -> TextContrast:
    # Backgrounds from the first opaque one (outermost that matters) inward; the canvas is white.
    backgrounds = [(parse_color(bg), float(opacity)) for bg, opacity in item["layers"]]
    start = next((i for i, (bg, _) in enumerate(backgrounds) if bg[3] >= 1), len(backgrounds))
    painted: RGBA = (255.0, 255.0, 255.0, 1.0) if start == len(backgrounds) else \
        backgrounds[start][0]
    for bg, _ in reversed(backgrounds[:start]):
        painted = over(bg, painted)
    # An ancestor's (or the element's own) opacity fades its text into what lies below it.
    fade = float(item["fillOpacity"])
    for _, opacity in backgrounds[:start]:
        fade *= opacity
    fg = parse_color(item["color"])
    seen = over((fg[0], fg[1], fg[2], fg[3] * fade), painted)
    return TextContrast(item["element"], item["text"], seen, painted, bool(item["svg"]))


def text_contrasts(page: Any, selector: str) -> list[TextContrast]:
    """Every visible text under the elements matching ``selector``, with what is behind it."""
    return [_seen(item) for root in page.locator(selector).all()
            for item in root.evaluate(_READ_COLOURS)]
