"""Rich values for ``log()``: images, tables, histograms, audio, text, HTML and figures.

Each class checks its input and takes a copy when it is made (``log()`` makes the plain
values it is given, a matplotlib figure for instance, into one of these), so the caller may
change or reuse its arrays at once; the background writer then calls :meth:`Media.encode`
to turn the copy into bytes (PNG, WAV, JSON...) and stores them in the blob store. A bad input
raises ``TypeError`` or ``ValueError`` saying what is accepted.

numpy, Pillow and pandas are imported only when a value needs them.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: The most rows a :class:`Table` holds.
MAX_TABLE_ROWS = 100_000
#: Bins of a :class:`Histogram` made from values, by default and at most.
DEFAULT_BINS, MAX_BINS = 64, 512
#: Longest side of an image's thumbnail, in pixels.
THUMB_SIZE = 128


class Encoded:
    """What the writer stores for one value: bytes for the blob store (or None), a thumbnail's
    bytes (images), and the JSON ``meta`` that describes them (kind-specific)."""

    __slots__ = ("data", "meta", "thumb")

    def __init__(self, data: bytes | None, meta: dict[str, Any],
                 thumb: bytes | None = None) -> None:
        self.data = data
        self.meta = meta
        self.thumb = thumb


class Media:
    """Base of the rich values: ``kind`` names it in the store.

    A value keeps what it was given; ``log()`` calls :meth:`prepared`, which checks it and
    takes a copy (so the caller may change its arrays at once), naming the key in any error.
    """

    kind = "media"
    _args: tuple[Any, ...] = ()
    _kwargs: dict[str, Any] = {}
    #: Checks the inputs and keeps a copy (each kind defines it with its own arguments).
    _setup: Any

    def prepared(self, key: str) -> Media:
        """A checked copy of this value, ready for the writer; ``TypeError``/``ValueError``
        naming ``key`` and what is accepted when the input is not."""
        clone = object.__new__(type(self))
        try:
            clone._setup(*self._args, **self._kwargs)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{key!r}: {exc}") from None
        return clone

    def encode(self) -> Encoded:  # pragma: no cover - every kind overrides it
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"nbtrack.{type(self).__name__}(...)"


def _numpy() -> Any:
    try:
        import numpy
    except ImportError as exc:  # pragma: no cover - numpy comes with every array input
        raise TypeError("this value needs numpy: pip install numpy") from exc
    return numpy


def _pil() -> Any:
    try:
        from PIL import Image as PILImage
    except ImportError as exc:  # pragma: no cover - pillow is a dependency of nbtrack
        raise TypeError("images need Pillow: pip install pillow") from exc
    return PILImage


def _caption(caption: Any) -> str | None:
    if caption is None:
        return None
    if not isinstance(caption, str):
        raise TypeError(f"a caption must be text, not {type(caption).__name__}")
    return caption


class Image(Media):
    """An image: a numpy array (uint8, or floats in [0, 1]; H x W, H x W x 1/3/4), a PIL image,
    or the path of an image file.

    Examples
    --------
    >>> nbtrack.log({"samples": nbtrack.Image(batch[0], caption="epoch 3")})  # doctest: +SKIP
    """

    kind = "image"

    def __init__(self, data: Any, caption: str | None = None) -> None:
        self._args, self._kwargs = (data,), {"caption": _caption(caption)}

    def _setup(self, data: Any, caption: str | None = None) -> None:
        self.caption = caption
        self._file: bytes | None = None
        self._pixels: Any = None
        self._pil: Any = None
        if isinstance(data, (str, os.PathLike)):
            path = Path(data)
            try:
                self._file = path.read_bytes()
            except OSError as exc:
                raise ValueError(f"cannot read the image file {path}: {exc}") from None
            try:
                with _pil().open(io.BytesIO(self._file)) as probe:
                    probe.verify()
            except Exception as exc:  # noqa: BLE001 - PIL raises many kinds
                raise ValueError(f"{path} is not an image file Pillow can read ({exc})") from None
            return
        module = type(data).__module__
        if module.startswith("PIL."):
            self._pil = data.copy()
            return
        if hasattr(data, "__array__") and not isinstance(data, (str, bytes)):
            self._pixels = _pixels(data)
            return
        raise TypeError(
            f"nbtrack.Image takes a numpy array (uint8, or floats in [0, 1]; HxW, HxWx1/3/4), a "
            f"PIL image or an image file path, not {type(data).__name__}"
        )

    def encode(self) -> Encoded:
        pil = _pil()
        if self._file is not None:
            img = pil.open(io.BytesIO(self._file))
            img.load()
        elif self._pil is not None:
            img = self._pil
        else:
            pixels = self._pixels
            img = pil.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
        if img.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
            img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
        data = _png(img)
        width, height = img.size
        thumb = None
        if max(width, height) > THUMB_SIZE:
            small = img.copy()
            small.thumbnail((THUMB_SIZE, THUMB_SIZE))
            thumb = _png(small)
        meta = {"format": "png", "mime": "image/png", "width": width, "height": height,
                "mode": img.mode, "caption": self.caption}
        return Encoded(data, meta, thumb)


def _png(img: Any) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=1)  # fast; PNG stays lossless
    return out.getvalue()


def _pixels(data: Any) -> Any:
    """A uint8 HxWxC copy of an image array, or a ValueError saying what is accepted."""
    np = _numpy()
    array = np.asarray(data)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4) or 0 in array.shape:
        raise ValueError(
            f"an image array must be HxW or HxWx1/3/4 with no empty side, not shape "
            f"{tuple(np.shape(data))}"
        )
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array).copy()
    if array.dtype == np.bool_:
        return (array.astype(np.uint8) * 255)
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ValueError("an image array has NaN or infinite values")
        lo, hi = float(array.min()), float(array.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(
                f"a float image array must hold values in [0, 1] (found {lo:g} to {hi:g}); "
                "scale it, or pass uint8 values in [0, 255]"
            )
        return np.round(array * 255.0).astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer):
        lo, hi = int(array.min()), int(array.max())
        if lo < 0 or hi > 255:
            raise ValueError(f"an integer image array must hold values in [0, 255] (found "
                             f"{lo} to {hi})")
        return array.astype(np.uint8)
    raise ValueError(f"an image array must be uint8, bool, int or float, not {array.dtype}")


class Table(Media):
    """A table: a pandas DataFrame, or ``rows`` (a list of lists) with ``columns`` names.

    At most :data:`MAX_TABLE_ROWS` rows. Cells are kept as numbers, text, booleans or None;
    anything else is kept as its text.

    Examples
    --------
    >>> nbtrack.log({"preds": nbtrack.Table(df)})  # doctest: +SKIP
    >>> nbtrack.log({"preds": nbtrack.Table(rows=[[1, "cat"]], columns=["id", "label"])})
    ... # doctest: +SKIP
    """

    kind = "table"

    def __init__(self, data: Any = None, *, rows: Sequence[Sequence[Any]] | None = None,
                 columns: Sequence[str] | None = None) -> None:
        self._args, self._kwargs = (data,), {"rows": rows, "columns": columns}

    def _setup(self, data: Any = None, *, rows: Sequence[Sequence[Any]] | None = None,
               columns: Sequence[str] | None = None) -> None:
        if data is not None and type(data).__module__.startswith("pandas"):
            if not hasattr(data, "columns"):
                raise TypeError("nbtrack.Table takes a DataFrame, not a pandas Series")
            _check_rows(len(data))
            self.columns = [str(c) for c in data.columns]
            self.rows = [[_cell(v) for v in row] for row in data.itertuples(index=False)]
            return
        if data is not None:
            if rows is not None:
                raise TypeError("give a DataFrame or rows=, not both")
            rows = data
        if rows is None:
            raise TypeError("nbtrack.Table takes a pandas DataFrame, or rows= and columns=")
        if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Sequence):
            raise TypeError(f"rows must be a list of lists, not {type(rows).__name__}")
        _check_rows(len(rows))
        width = len(columns) if columns is not None else (len(rows[0]) if rows else 0)
        if columns is None:
            columns = [f"col{i}" for i in range(width)]
        self.columns = [str(c) for c in columns]
        copied: list[list[Any]] = []
        for i, row in enumerate(rows):
            if isinstance(row, (str, bytes, Mapping)) or not isinstance(row, Sequence):
                raise TypeError(f"row {i} must be a list of cells, not {type(row).__name__}")
            if len(row) != width:
                raise ValueError(f"row {i} has {len(row)} cells; the table has {width} columns")
            copied.append([_cell(v) for v in row])
        self.rows = copied

    def encode(self) -> Encoded:
        data = json.dumps({"columns": self.columns, "data": self.rows}, allow_nan=True,
                          ensure_ascii=False, separators=(",", ":")).encode()
        meta = {"format": "json", "mime": "application/json", "rows": len(self.rows),
                "columns": self.columns}
        return Encoded(data, meta)


def _check_rows(count: int) -> None:
    if count > MAX_TABLE_ROWS:
        raise ValueError(f"a table holds at most {MAX_TABLE_ROWS:,} rows, not {count:,}; "
                         "log a sample of it")


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:
        try:
            return _cell(item())
        except Exception:  # noqa: BLE001
            pass
    return str(value)


class Histogram(Media):
    """A histogram of ``values`` (``bins`` bins, 64 by default, at most 512; NaN and infinite
    values are left out and counted), or a precomputed one: ``Histogram(counts=, edges=)``.

    Examples
    --------
    >>> nbtrack.log({"weights": nbtrack.Histogram(layer.weight.detach().numpy())})
    ... # doctest: +SKIP
    """

    kind = "histogram"

    def __init__(self, values: Any = None, bins: int = DEFAULT_BINS, *,
                 counts: Sequence[float] | None = None,
                 edges: Sequence[float] | None = None) -> None:
        self._args = (values, bins)
        self._kwargs = {"counts": counts, "edges": edges}

    def _setup(self, values: Any = None, bins: int = DEFAULT_BINS, *,
               counts: Sequence[float] | None = None,
               edges: Sequence[float] | None = None) -> None:
        if not isinstance(bins, int) or isinstance(bins, bool) or not 1 <= bins <= MAX_BINS:
            raise ValueError(f"bins must be a whole number from 1 to {MAX_BINS}, not {bins!r}")
        self.nonfinite = 0
        if counts is not None or edges is not None:
            if values is not None:
                raise TypeError("give values, or counts= and edges=, not both")
            if counts is None or edges is None:
                raise TypeError("a precomputed histogram needs both counts= and edges=")
            self.counts = [float(c) for c in counts]
            self.edges = [float(e) for e in edges]
            if len(self.edges) != len(self.counts) + 1 or not self.counts:
                raise ValueError(f"edges must be one longer than counts ({len(self.counts)} "
                                 f"counts, {len(self.edges)} edges)")
            if len(self.counts) > MAX_BINS:
                raise ValueError(f"a histogram has at most {MAX_BINS} bins")
            if any(not math.isfinite(x) for x in (*self.counts, *self.edges)):
                raise ValueError("counts and edges must be finite numbers")
            if any(a >= b for a, b in zip(self.edges, self.edges[1:])):
                raise ValueError("edges must increase")
            return
        if values is None:
            raise TypeError("nbtrack.Histogram takes values, or counts= and edges=")
        np = _numpy()
        try:
            array = np.asarray(values, dtype=float).ravel()
        except (TypeError, ValueError) as exc:
            raise TypeError(f"histogram values must be numbers ({exc})") from None
        finite = array[np.isfinite(array)]
        self.nonfinite = int(array.size - finite.size)
        if finite.size == 0:
            raise ValueError("a histogram needs at least one finite value")
        counts_, edges_ = np.histogram(finite, bins=bins)
        self.counts = counts_.astype(float).tolist()
        self.edges = edges_.tolist()

    def encode(self) -> Encoded:
        meta = {"counts": self.counts, "edges": self.edges, "nonfinite": self.nonfinite}
        return Encoded(None, meta)


class Audio(Media):
    """Sound: a 1-D (mono) or 2-D (samples x channels) array with its ``rate`` in Hz (floats
    in [-1, 1] or int16), or the path of a WAV file. Stored as 16-bit WAV.

    Examples
    --------
    >>> nbtrack.log({"voice": nbtrack.Audio(waveform, rate=16_000)})  # doctest: +SKIP
    """

    kind = "audio"

    def __init__(self, data: Any, rate: int | None = None, caption: str | None = None) -> None:
        self._args, self._kwargs = (data, rate), {"caption": _caption(caption)}

    def _setup(self, data: Any, rate: int | None = None, caption: str | None = None) -> None:
        self.caption = caption
        self._wav: bytes | None = None
        self._samples: Any = None
        if isinstance(data, (str, os.PathLike)):
            import wave

            path = Path(data)
            try:
                self._wav = path.read_bytes()
                with wave.open(io.BytesIO(self._wav)) as probe:
                    self.rate = probe.getframerate()
                    self.channels = probe.getnchannels()
                    self.frames = probe.getnframes()
            except (OSError, EOFError, wave.Error) as exc:
                raise ValueError(f"{path} is not a WAV file nbtrack can read ({exc})") from None
            return
        if rate is None or not isinstance(rate, int) or isinstance(rate, bool) or rate <= 0:
            raise ValueError(f"audio from an array needs its sample rate in Hz (rate=16000), "
                             f"not {rate!r}")
        if not hasattr(data, "__array__") and not isinstance(data, (list, tuple)):
            raise TypeError(f"nbtrack.Audio takes an array and a rate, or a WAV file path, "
                            f"not {type(data).__name__}")
        np = _numpy()
        array = np.asarray(data)
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] > 16:
            raise ValueError(f"audio must be 1-D (mono) or 2-D (samples x channels, at most 16),"
                             f" not shape {tuple(np.shape(data))}")
        if array.dtype == np.int16:
            samples = array.copy()
        elif np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer):
            as_float = array.astype(np.float64)
            if not np.isfinite(as_float).all():
                raise ValueError("audio samples have NaN or infinite values")
            samples = (np.clip(as_float, -1.0, 1.0) * 32767).round().astype(np.int16)
        else:
            raise ValueError(f"audio samples must be numbers, not {array.dtype}")
        self._samples = samples
        self.rate = rate
        self.channels = int(samples.shape[1])
        self.frames = int(samples.shape[0])

    def encode(self) -> Encoded:
        if self._wav is not None:
            data = self._wav
        else:
            import wave

            out = io.BytesIO()
            with wave.open(out, "wb") as wav:
                wav.setnchannels(self.channels)
                wav.setsampwidth(2)
                wav.setframerate(self.rate)
                wav.writeframes(self._samples.astype("<i2").tobytes())
            data = out.getvalue()
        meta = {"format": "wav", "mime": "audio/wav", "rate": self.rate,
                "channels": self.channels, "duration": self.frames / self.rate,
                "caption": self.caption}
        return Encoded(data, meta)


class Text(Media):
    """A piece of text (a sample generation, a prompt, a log excerpt)."""

    kind = "text"
    mime = "text/plain"

    def __init__(self, text: str) -> None:
        self._args = (text,)

    def _setup(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"nbtrack.{type(self).__name__} takes a str, not "
                            f"{type(text).__name__}")
        try:
            self.data = text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the text is not valid Unicode") from None
        self.length = len(text)

    def encode(self) -> Encoded:
        return Encoded(self.data, {"format": self.kind, "mime": f"{self.mime}; charset=utf-8",
                                   "length": self.length})


class Html(Text):
    """HTML, shown in a sandboxed frame everywhere (its scripts never run)."""

    kind = "html"
    mime = "text/html"


class Figure(Media):
    """A chart: a matplotlib Figure (kept as PNG), an Altair chart (its Vega-Lite spec) or a
    Plotly figure (its JSON). ``log()`` wraps these itself: ``nbtrack.log({"fig": fig})``."""

    kind = "figure"

    def __init__(self, figure: Any) -> None:
        self._args = (figure,)

    def _setup(self, figure: Any) -> None:
        module = type(figure).__module__
        self.caption = None
        if module.startswith("matplotlib"):
            if not hasattr(figure, "savefig"):
                raise TypeError(f"log a matplotlib Figure, not {type(figure).__name__}")
            out = io.BytesIO()
            # Rendered now, on the caller's thread: matplotlib is not thread-safe, and the
            # figure may change after log() returns.
            figure.savefig(out, format="png", dpi=figure.dpi, bbox_inches="tight")
            self.data, self.format, self.mime = out.getvalue(), "png", "image/png"
        elif module.startswith("altair"):
            spec = figure.to_dict()
            self.data = json.dumps(spec, allow_nan=False).encode()
            self.format, self.mime = "vega-lite", "application/vnd.vegalite+json"
        elif module.startswith("plotly"):
            self.data = figure.to_json().encode()
            self.format, self.mime = "plotly", "application/vnd.plotly.v1+json"
        else:
            raise TypeError(f"a figure must be a matplotlib Figure, an Altair chart or a Plotly "
                            f"figure, not {type(figure).__name__}")

    def encode(self) -> Encoded:
        meta: dict[str, Any] = {"format": self.format, "mime": self.mime}
        if self.format == "png":
            meta["width"], meta["height"] = _png_size(self.data)
        return Encoded(self.data, meta)


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG header (no decoding)."""
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


#: Modules whose objects ``log()`` takes as figures without ``nbtrack.Figure(...)``.
FIGURE_MODULES = ("matplotlib.", "altair.", "plotly.")


def prepare(key: str, value: Any) -> list[Media] | None:
    """``value`` checked and copied as rich values (a list: one, or the several logged under
    one key at one step) if it is a rich value, a list of them, a figure or a PIL image;
    None if it is none of these. Errors name ``key``."""
    if isinstance(value, Media):
        return [value.prepared(key)]
    module = type(value).__module__
    if module.startswith(FIGURE_MODULES):
        return [Figure(value).prepared(key)]
    if module.startswith("PIL."):
        return [Image(value).prepared(key)]
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], Media):
        if not all(isinstance(v, Media) for v in value):
            raise TypeError(f"{key!r}: a list of rich values must hold only nbtrack.Image, "
                            "nbtrack.Table, ... values")
        kinds = {v.kind for v in value}
        if len(kinds) != 1:
            raise TypeError(f"{key!r}: a list of rich values must be of one kind, not "
                            f"{sorted(kinds)}")
        return [v.prepared(key) for v in value]
    return None
