"""W&B's data types with W&B's signatures, made into nbtrack's rich values
(:mod:`nbtrack.media.values`), so ``run.log({"x": wandb.Image(...)})`` stores an nbtrack image.

- :class:`Image`: arrays are made uint8 the way W&B does it (``normalize=True``: values below 0
  rescale to [0, 1], a maximum of at most 1 scales by 255, then clipped to [0, 255]); torch
  tensors and channel-first arrays (C x H x W) are moved to H x W x C; a matplotlib figure
  (or ``pyplot``) is rendered to PNG. ``boxes``, ``masks`` and ``classes`` are noted once and
  left out.
- :class:`Table`: ``columns``/``data``/``rows``/``dataframe``, ``add_data``, ``add_column``,
  ``get_column``, ``get_dataframe``.
- :class:`Histogram`: ``sequence`` with ``num_bins`` (at most 512), or ``np_histogram``.
- :class:`Audio`: ``data_or_path`` with ``sample_rate``.
- :class:`Html`: a string of HTML, a file path, or an open file.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Any

from nbtrack.media import values
from nbtrack.wandb.errors import note_once


def _to_numpy(data: Any) -> Any:
    import numpy as np

    if type(data).__module__.startswith("torch"):
        data = data.detach().cpu().numpy()
    return np.asarray(data)


def to_uint8(data: Any) -> Any:
    """W&B's ``Image.to_uint8``: rescale negative data to [0, 1], scale [0, 1] data by 255,
    clip to [0, 255]."""
    import numpy as np

    data = np.asarray(data)
    if data.dtype == np.uint8:
        return data
    if data.dtype == np.bool_:
        return data.astype(np.uint8) * 255
    data = data.astype(np.float64)
    if data.size and np.min(data) < 0:
        span = np.ptp(data)
        data = (data - np.min(data)) / (span if span else 1.0)
    if data.size and np.max(data) <= 1.0:
        data = data * 255
    return data.clip(0, 255).astype(np.uint8)


def _channels_last(array: Any) -> Any:
    import numpy as np

    if array.ndim > 2:
        array = array.squeeze()
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
        array = np.transpose(array, (1, 2, 0))
    return array


def _figure_png(figure: Any) -> bytes:
    if not hasattr(figure, "savefig"):  # the pyplot module: its current figure
        figure = figure.gcf()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


class Image(values.Image):
    """``wandb.Image(data_or_path, mode=None, caption=None, ...)``: an nbtrack image."""

    def __init__(self, data_or_path: Any, mode: str | None = None, caption: str | None = None,
                 grouping: int | None = None, classes: Any = None, boxes: Any = None,
                 masks: Any = None, file_type: str | None = None, normalize: bool = True,
                 **kwargs: Any) -> None:
        for name, given in (("boxes", boxes), ("masks", masks), ("classes", classes),
                            ("grouping", grouping), *kwargs.items()):
            if given is not None:
                note_once(f"Image.{name}", f"nbtrack.wandb: wandb.Image({name}=...) has no "
                          "local meaning yet; the image is logged without it")
        data: Any = data_or_path
        module = type(data).__module__
        if isinstance(data, values.Image):
            data = data._args[0]
        elif module.startswith("matplotlib") or getattr(data, "__name__", "") == \
                "matplotlib.pyplot":
            from PIL import Image as PILImage

            data = PILImage.open(io.BytesIO(_figure_png(data)))
        elif not isinstance(data, (str, os.PathLike)) and not module.startswith("PIL.") and (
                hasattr(data, "__array__") or module.startswith("torch")):
            array = _channels_last(_to_numpy(data))
            data = to_uint8(array) if normalize else array.clip(0, 255).astype("uint8")
        if mode is not None and type(data).__module__.startswith("PIL."):
            data = data.convert(mode)
        super().__init__(data, caption=caption)


class Table(values.Table):
    """``wandb.Table(columns=None, data=None, rows=None, dataframe=None, ...)``: an nbtrack
    table. Rows may be added (``add_data``) and columns too (``add_column``) until it is
    logged (W&B's ``IMMUTABLE`` mode); each ``log`` stores the table as it is then."""

    def __init__(self, columns: Sequence[str] | None = None, data: Any = None,
                 rows: Any = None, dataframe: Any = None, dtype: Any = None,
                 optional: Any = True, allow_mixed_types: bool = False,
                 log_mode: str | None = None) -> None:
        frame = dataframe
        if frame is None and data is not None and type(data).__module__.startswith("pandas"):
            frame = data
        if frame is not None:
            self.columns = [str(c) for c in frame.columns]
            self.data = [list(r) for r in frame.itertuples(index=False)]
        else:
            body = data if data is not None else rows
            rows_ = [list(r) for r in (_to_numpy(body).tolist() if hasattr(body, "__array__")
                                       else body or [])]
            width = len(rows_[0]) if rows_ else 0
            self.columns = list(columns) if columns is not None else \
                [f"col{i}" for i in range(width)]
            self.data = rows_
        self._sync()

    def _sync(self) -> None:
        self._args, self._kwargs = (None,), {"rows": self.data, "columns": self.columns}

    def add_data(self, *data: Any) -> None:
        """Add one row (a value per column)."""
        if len(data) != len(self.columns):
            raise ValueError(f"This table expects {len(self.columns)} columns: "
                             f"{self.columns}, found {len(data)}")
        self.data.append(list(data))

    def add_column(self, name: str, data: Sequence[Any], optional: bool = False) -> None:
        """Add a column (a value per existing row)."""
        if name in self.columns:
            raise ValueError(f"Column name {name} already exists in table")
        if self.data and len(data) != len(self.data):
            raise ValueError(f"Expected length {len(self.data)}, found {len(data)}")
        self.columns.append(name)
        if not self.data:
            self.data = [[v] for v in data]
        else:
            for row, value in zip(self.data, data):
                row.append(value)

    def get_column(self, name: str, convert_to: str | None = None) -> Any:
        """The values of column ``name``."""
        index = self.columns.index(name)
        column = [row[index] for row in self.data]
        if convert_to == "numpy":
            import numpy as np

            return np.array(column)
        return column

    def get_dataframe(self) -> Any:
        """The table as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.data, columns=self.columns)

    def prepared(self, key: str) -> values.Media:
        self._sync()
        return super().prepared(key)


class Histogram(values.Histogram):
    """``wandb.Histogram(sequence=None, np_histogram=None, num_bins=64)``."""

    def __init__(self, sequence: Any = None, np_histogram: Any = None,
                 num_bins: int = 64) -> None:
        if np_histogram is not None:
            counts, edges = np_histogram
            super().__init__(counts=list(_to_numpy(counts).tolist()),
                             edges=list(_to_numpy(edges).tolist()))
        else:
            if sequence is not None and type(sequence).__module__.startswith("torch"):
                sequence = _to_numpy(sequence)
            super().__init__(sequence, bins=min(int(num_bins), values.MAX_BINS))


class Audio(values.Audio):
    """``wandb.Audio(data_or_path, sample_rate=None, caption=None)``."""

    def __init__(self, data_or_path: Any, sample_rate: int | None = None,
                 caption: str | None = None) -> None:
        data = data_or_path
        if not isinstance(data, (str, os.PathLike)) and type(data).__module__.startswith("torch"):
            data = _to_numpy(data)
        super().__init__(data, rate=sample_rate, caption=caption)


class Html(values.Html):
    """``wandb.Html(data, inject=True, data_is_not_path=False)``: HTML text, a path to an
    HTML file, or an open file."""

    def __init__(self, data: Any, inject: bool = True, data_is_not_path: bool = False) -> None:
        if hasattr(data, "read"):
            text = data.read()
        elif isinstance(data, (str, os.PathLike)) and not data_is_not_path and \
                os.path.isfile(data):
            with open(data, encoding="utf-8") as f:
                text = f.read()
        else:
            text = data
        super().__init__(text)


__all__ = ["Audio", "Histogram", "Html", "Image", "Table", "to_uint8"]
