"""``SummaryWriter``: the ``torch.utils.tensorboard`` / tensorboardX writer, recording into
nbtrack instead of event files."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nbtrack.integrations.scope import RunScope
from nbtrack.media.values import Text
from nbtrack.recorder import warn
from nbtrack.tensorboard import convert

_NUMBERS = (float, int)


class SummaryWriter:
    """Record what training code writes to TensorBoard as an nbtrack run.

    A drop-in for ``torch.utils.tensorboard.SummaryWriter`` and ``tensorboardX.SummaryWriter``
    (``from nbtrack.tensorboard import SummaryWriter``): each ``add_*`` call logs at
    ``global_step`` (TensorBoard's step; 0 when not given, as TensorBoard records it).
    Scalars become metrics; histograms, images, figures, text and audio become nbtrack rich
    values; ``add_hparams`` adds params. Nothing is written under ``log_dir``.

    The writer logs into the active run if there is one (and leaves it open), else starts a
    run (named ``log_dir`` when given, else ``comment`` or nbtrack's default) and finishes it
    at :meth:`close`. An argument TensorBoard rejects raises as it does there; a failure to
    record warns and never raises into the training loop.

    Parameters
    ----------
    log_dir : the run's name when the writer starts one (TensorBoard's folder).
    comment : the run's name when the writer starts one and no ``log_dir`` is given.
    purge_step, max_queue, flush_secs, filename_suffix : accepted for compatibility; they
        tune event files, which nbtrack does not write (its writer flushes on its own).

    Examples
    --------
    >>> with SummaryWriter("runs/exp1") as writer:  # doctest: +SKIP
    ...     for step in range(100):
    ...         writer.add_scalar("loss", 1 / (step + 1), step)
    """

    def __init__(self, log_dir: str | os.PathLike[str] | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        if log_dir:
            self.log_dir = os.fspath(log_dir)
            name: str | None = self.log_dir
        else:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            self.log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
            name = comment.strip("_ -") or None
        self.comment = comment
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self._scope = RunScope(name)
        self._scope.run()
        self._noted: set[str] = set()

    def get_logdir(self) -> str:
        """The ``log_dir`` given (or TensorBoard's default name for it)."""
        return self.log_dir

    @property
    def run(self) -> Any:
        """The nbtrack run this writer records into (None if none could be started)."""
        return self._scope.run()

    # -- scalars --------------------------------------------------------------------------------
    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None,
                   walltime: float | None = None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """Log ``{tag: scalar_value}`` at ``global_step`` (``walltime``: nbtrack records the
        time of the call; ``new_style``/``double_precision`` shape event files only)."""
        value = scalar_value if type(scalar_value) in _NUMBERS else convert.scalar(scalar_value)
        self._scope.log({tag: value}, 0 if global_step is None else global_step, check=True)

    def add_scalars(self, main_tag: str, tag_scalar_dict: Mapping[str, Any],
                    global_step: int | None = None, walltime: float | None = None) -> None:
        """Log each ``{sub: value}`` as ``main_tag/sub`` at ``global_step``, in one call."""
        data = {f"{main_tag}/{tag}": convert.scalar(value)
                for tag, value in tag_scalar_dict.items()}
        self._scope.log(data, 0 if global_step is None else global_step, check=True)

    # -- rich values ----------------------------------------------------------------------------
    def add_histogram(self, tag: str, values: Any, global_step: int | None = None,
                      bins: Any = "tensorflow", walltime: float | None = None,
                      max_bins: int | None = None) -> None:
        """Log the histogram of ``values`` (an array or tensor) as an nbtrack Histogram;
        ``bins`` as TensorBoard takes it (``"tensorflow"``: nbtrack's default 64 bins)."""
        self._log(tag, convert.histogram(values, bins, max_bins), global_step)

    def add_image(self, tag: str, img_tensor: Any, global_step: int | None = None,
                  walltime: float | None = None, dataformats: str = "CHW") -> None:
        """Log an image (``CHW`` by default; ``HWC``, ``HW``...; floats in [0, 1] or uint8)
        as an nbtrack Image (a batch, with ``NCHW``/``NHWC``, as several images)."""
        self._log(tag, convert.images(img_tensor, dataformats), global_step)

    def add_images(self, tag: str, img_tensor: Any, global_step: int | None = None,
                   walltime: float | None = None, dataformats: str = "NCHW") -> None:
        """Log a batch of images (``NCHW`` by default) as nbtrack Images under one key."""
        self._log(tag, convert.images(img_tensor, dataformats), global_step)

    def add_figure(self, tag: str, figure: Any, global_step: int | None = None,
                   close: bool = True, walltime: float | None = None) -> None:
        """Log a matplotlib figure (or a list of them) as an image; close it when ``close``."""
        self._log(tag, convert.figure_images(figure, close), global_step)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Log ``text_string`` as nbtrack Text."""
        text_string.encode("utf-8")  # what TensorBoard does first: non-text fails here
        self._log(tag, Text(text_string), global_step)

    def add_audio(self, tag: str, snd_tensor: Any, global_step: int | None = None,
                  sample_rate: int = 44100, walltime: float | None = None) -> None:
        """Log a ``(1, L)`` sound tensor with values in [-1, 1] as nbtrack Audio."""
        self._log(tag, convert.audio(snd_tensor, sample_rate), global_step)

    def add_hparams(self, hparam_dict: dict[str, Any], metric_dict: dict[str, Any],
                    hparam_domain_discrete: dict[str, list[Any]] | None = None,
                    run_name: str | None = None, global_step: int | None = None) -> None:
        """Store ``hparam_dict`` as the run's params and log ``metric_dict`` at
        ``global_step`` (TensorBoard's separate hparams run is this run here)."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        _check_domains(hparam_dict, hparam_domain_discrete)
        params: dict[str, Any] = {}
        for key, value in hparam_dict.items():
            if value is None:
                continue
            if isinstance(value, (bool, int, float, str)):
                params[key] = value
            elif convert._is_torch(value):
                params[key] = float(convert.to_numpy(value).reshape(-1)[0])
            else:
                raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
        metrics = {key: convert.scalar(value) for key, value in metric_dict.items()}
        self._scope.config(params)
        self._scope.log(metrics, 0 if global_step is None else global_step, check=True)

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """Not recorded: nbtrack keeps no model graphs (warns once)."""
        self._not_recorded("add_graph")

    # -- lifecycle ------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write what is queued now (nbtrack also writes on its own within half a second)."""
        self._scope.flush()

    def close(self) -> None:
        """Flush, and finish the run if this writer started it. A later ``add_*`` records
        into the active run, or a new one."""
        self._scope.flush()
        self._scope.release()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: Any, tb: Any) -> None:
        self._scope.flush()
        if exc_type is None:
            self._scope.release()
        elif issubclass(exc_type, KeyboardInterrupt):
            self._scope.release("interrupted")
        else:
            self._scope.release("failed")

    def _log(self, tag: str, value: Any, global_step: int | None) -> None:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        self._scope.log({tag: value}, 0 if global_step is None else global_step, check=True)

    def _not_recorded(self, method: str) -> None:
        if method not in self._noted:
            self._noted.add(method)
            warn(f"nbtrack's SummaryWriter does not record {method}(); the call is ignored")

    def __repr__(self) -> str:
        run = self._scope.current
        where = f"run #{run.number}" if run is not None else "no run"
        return f"<nbtrack.tensorboard.SummaryWriter {self.log_dir!r} -> {where}>"


def _check_domains(hparams: Mapping[str, Any], domains: Any) -> None:
    """TensorBoard's checks of ``hparam_domain_discrete`` (the values each hparam can take)."""
    domains = domains or {}
    if not isinstance(domains, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, "
                        "nothing logged.")
    for key, values in domains.items():
        if key not in hparams or not isinstance(values, list) or not all(
                isinstance(v, type(hparams[key])) for v in values):
            raise TypeError(f"parameter: hparam_domain_discrete[{key}] should be a list of "
                            f"same type as hparam_dict[{key}].")


__all__ = ["SummaryWriter"]
