"""TensorBoard-style inputs (numbers, numpy arrays, torch tensors) as nbtrack values, with the
checks and conversions ``torch.utils.tensorboard`` applies (so what it rejects is rejected here
the same way, and images get the same pixels).

numpy is imported when an array needs it; torch is never imported (a tensor's own methods
are used).
"""

from __future__ import annotations

from typing import Any

from nbtrack.media.values import DEFAULT_BINS, MAX_BINS, Audio, Histogram, Image

_NUMBERS = (float, int)


def _is_torch(value: Any) -> bool:
    return type(value).__module__.startswith("torch")


def to_numpy(value: Any) -> Any:
    """``value`` as a numpy array (torch tensors detached and copied to the CPU)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return value
    if _is_torch(value) and hasattr(value, "detach"):
        tensor = value.detach()
        if str(tensor.dtype) == "torch.bfloat16":
            tensor = tensor.float()
        return tensor.cpu().numpy()
    if np.isscalar(value) or isinstance(value, (list, tuple)) or hasattr(value, "__array__"):
        return np.asarray(value)
    raise NotImplementedError(
        f"Got {type(value)}, but numpy array or torch tensor are expected.")


def scalar(value: Any) -> float | int:
    """One number from ``value`` (a number, or an array/tensor of one element)."""
    if type(value) in _NUMBERS:
        return value  # type: ignore[no-any-return]
    if isinstance(value, (bool, str)):
        return float(value)
    if _is_torch(value) and hasattr(value, "numel") and value.numel() == 1:
        return float(value.item())
    array = to_numpy(value).squeeze()
    if array.ndim != 0:
        raise AssertionError(
            f"Tensor should contain one element (0 dimensions). Was given size: {array.size} "
            f"and {array.ndim} dimensions.")
    return float(array)


def images(value: Any, dataformats: str) -> list[Image]:
    """An image (``CHW``, ``HWC``, ``HW``...) or a batch (``NCHW``, ``NHWC``) as nbtrack
    Images, scaled as TensorBoard does: uint8 kept, anything else times 255, clipped."""
    import numpy as np

    if not isinstance(dataformats, str):
        raise TypeError(f"dataformats must be a string like 'CHW', not {dataformats!r}")
    array = to_numpy(value)
    if len(set(dataformats)) != len(dataformats):
        raise AssertionError(
            f"You can not use the same dimension shorthand twice. input_format: {dataformats}")
    if array.ndim != len(dataformats):
        raise AssertionError(
            f"size of input tensor and input format are different. tensor shape: "
            f"{array.shape}, input_format: {dataformats}")
    fmt = dataformats.upper()
    order = {4: "NHWC", 3: "HWC", 2: "HW"}.get(len(fmt), "")
    if not order or sorted(fmt) != sorted(order):
        raise ValueError(f"dataformats {dataformats!r} must be an order of NCHW, CHW or HW")
    array = array.transpose([fmt.index(c) for c in order])
    if array.dtype == np.uint8:
        pixels = array
    else:
        pixels = (array.astype(np.float32) * 255).clip(0, 255).astype(np.uint8)
    if len(fmt) == 4:
        return [Image(one) for one in pixels]
    return [Image(pixels)]


def histogram(value: Any, bins: Any, max_bins: int | None) -> Histogram:
    """The histogram of ``value``'s numbers: ``bins`` ``"tensorflow"`` (TensorBoard's default)
    gives nbtrack's default bins; a count, a numpy bin rule (``"auto"``, ``"fd"``...) or bin
    edges are used as given, up to ``max_bins`` (and nbtrack's limit of 512 bins)."""
    import numpy as np

    array = to_numpy(value).astype(float).reshape(-1)
    if array.size == 0:
        raise ValueError("The input has no element.")
    limit = MAX_BINS if max_bins is None else max(1, min(int(max_bins), MAX_BINS))
    if isinstance(bins, str) and bins == "tensorflow":
        return Histogram(array, bins=min(DEFAULT_BINS, limit))
    if isinstance(bins, int) and not isinstance(bins, bool):
        if bins < 1:
            raise ValueError("`bins` must be positive, when an integer")
        return Histogram(array, bins=min(bins, limit))
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        raise ValueError("a histogram needs at least one finite value")
    counts, edges = np.histogram(finite, bins=bins)
    if counts.size > limit:
        counts, edges = np.histogram(finite, bins=limit, range=(edges[0], edges[-1]))
    return Histogram(counts=counts.tolist(), edges=edges.tolist())


def audio(value: Any, sample_rate: int) -> Audio:
    """A ``(1, L)`` (or ``(L,)``) sound tensor with values in [-1, 1] as nbtrack Audio."""
    array = to_numpy(value)
    if array.ndim == 2 and array.shape[0] == 1:
        array = array[0]
    return Audio(array.clip(-1, 1), rate=int(sample_rate))


def figure_images(figure: Any, close: bool) -> list[Image]:
    """A matplotlib figure (or a list of them) rendered as TensorBoard does (RGB, the
    figure's size and dpi), closed when ``close``."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    out = []
    for one in figure if isinstance(figure, list) else [figure]:
        canvas: Any = FigureCanvasAgg(one)
        canvas.draw()
        width, height = one.canvas.get_width_height()
        rgba = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8).reshape(height, width, 4)
        out.append(Image(rgba[:, :, :3].copy()))
        if close:
            import matplotlib.pyplot as plt

            plt.close(one)
    return out
