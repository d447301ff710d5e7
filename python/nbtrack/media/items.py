"""What reading rich values gives back: :class:`MediaItem`, one logged value, by step.

``run.history("samples")["samples"]`` is a :class:`MediaSeries`: ``step``, ``value`` (the
items), ``time`` and ``cell`` lists in step order, as a scalar series has. An item reads its
bytes from the blob store when asked, and shows itself in a notebook.
"""

from __future__ import annotations

import builtins
import html
import io
import json
from pathlib import Path
from typing import Any

from nbtrack.store import blobs


class MediaItem:
    """One logged rich value: ``kind`` (image, table, histogram, audio, text, html, figure),
    ``meta`` (size, caption, columns, bins...) and, read on demand, its ``bytes``."""

    def __init__(self, store: Path, kind: str, meta: dict[str, Any], blob: str | None,
                 thumb: str | None = None, *, key: str = "", step: int = 0) -> None:
        self._store = store
        self.kind = kind
        self.meta = meta
        self.blob = blob
        self.thumb = thumb
        self.key = key
        self.step = step

    @property
    def caption(self) -> str | None:
        caption = self.meta.get("caption")
        return caption if isinstance(caption, str) else None

    @property
    def bytes(self) -> builtins.bytes:
        """The stored bytes (PNG, WAV, JSON, text...); histograms have none (see ``meta``)."""
        if self.blob is None:
            raise ValueError(f"a {self.kind} keeps no bytes; read .meta or .to_numpy()")
        return blobs.read(self._store, self.blob)

    @property
    def path(self) -> Path | None:
        """The blob file holding the bytes (read-only: other runs may share it)."""
        return None if self.blob is None else blobs.path_of(self._store, self.blob)

    @property
    def thumb_path(self) -> Path | None:
        """The blob file of an image's thumbnail (at most 128 px a side), if it has one."""
        return None if self.thumb is None else blobs.path_of(self._store, self.thumb)

    def to_pil(self) -> Any:
        """An image (or a PNG figure) as a PIL image."""
        if self.meta.get("format") != "png":
            raise TypeError(f"a {self.kind} is not an image")
        from PIL import Image

        img = Image.open(io.BytesIO(self.bytes))
        img.load()
        return img

    def to_numpy(self) -> Any:
        """Images: an HxWxC uint8 array; audio: samples x channels int16; histograms: the
        counts; tables: a 2-D object array of the cells."""
        import numpy as np

        if self.meta.get("format") == "png":
            array = np.asarray(self.to_pil())
            return array if array.ndim == 3 else array[:, :, None]
        if self.kind == "audio":
            import wave

            with wave.open(io.BytesIO(self.bytes)) as wav:
                frames = wav.readframes(wav.getnframes())
                channels = wav.getnchannels()
            return np.frombuffer(frames, dtype="<i2").reshape(-1, channels)
        if self.kind == "histogram":
            return np.asarray(self.meta["counts"])
        if self.kind == "table":
            return np.asarray(self._table()["data"], dtype=object)
        raise TypeError(f"a {self.kind} has no array form; read .text or .bytes")

    def to_pandas(self) -> Any:
        """A table as a DataFrame (histograms: one row per bin with its edges)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("to_pandas() needs pandas: pip install pandas") from exc
        if self.kind == "table":
            table = self._table()
            return pd.DataFrame(table["data"], columns=table["columns"])
        if self.kind == "histogram":
            edges = self.meta["edges"]
            return pd.DataFrame({"left": edges[:-1], "right": edges[1:],
                                 "count": self.meta["counts"]})
        raise TypeError(f"a {self.kind} is not a table")

    @property
    def text(self) -> str:
        """Text and HTML as text; figures stored as a spec (Vega-Lite, Plotly) as JSON text."""
        if self.kind in ("text", "html") or self.meta.get("format") in ("vega-lite", "plotly"):
            return self.bytes.decode("utf-8")
        raise TypeError(f"a {self.kind} is not text")

    @property
    def spec(self) -> dict[str, Any]:
        """A figure's Vega-Lite or Plotly spec."""
        if self.meta.get("format") not in ("vega-lite", "plotly"):
            raise TypeError("only Altair and Plotly figures keep a spec")
        spec: dict[str, Any] = json.loads(self.bytes)
        return spec

    def _table(self) -> dict[str, Any]:
        table: dict[str, Any] = json.loads(self.bytes)
        return table

    # -- shown in a notebook ---------------------------------------------------------------
    def _repr_png_(self) -> builtins.bytes | None:
        return self.bytes if self.meta.get("format") == "png" else None

    def _repr_html_(self) -> str | None:
        caption = html.escape(self.caption or "")
        if self.kind == "table":
            table = self._table()
            head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table["columns"])
            rows = "".join(
                "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                for row in table["data"][:50]
            )
            more = len(table["data"]) - 50
            note = f"<p>({more:,} more rows)</p>" if more > 0 else ""
            return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{note}"
        if self.kind == "text":
            return f"<pre>{html.escape(self.text)}</pre>"
        if self.kind == "html":
            # Shown sandboxed: its scripts never run.
            return (f'<iframe sandbox="" style="width:100%;height:300px;border:0" '
                    f'srcdoc="{html.escape(self.text, quote=True)}"></iframe>')
        if self.kind == "audio":
            import base64

            data = base64.b64encode(self.bytes).decode()
            return (f'<audio controls src="data:audio/wav;base64,{data}"></audio>'
                    f"<div>{caption}</div>")
        if self.kind == "histogram":
            counts = self.meta["counts"]
            return f"<pre>histogram: {len(counts)} bins, {int(sum(counts)):,} values</pre>"
        return None

    def __repr__(self) -> str:
        size = ""
        if "width" in self.meta:
            size = f" {self.meta['width']}x{self.meta['height']}"
        elif "rows" in self.meta:
            size = f" {self.meta['rows']} rows"
        return f"<{self.kind}{size} {self.key!r} step {self.step}>"


class MediaSeries(dict[str, Any]):
    """The rich values logged under one key, by step: ``{"key", "kind", "step", "value",
    "time", "cell", "count"}``. Several values logged at one step (a list) come in the order
    they were given, sharing the step."""

    def __repr__(self) -> str:
        return f"MediaSeries({self['key']!r}: {self['count']} {self['kind']} values)"
