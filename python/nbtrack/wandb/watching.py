"""``wandb.watch`` (this module is not named ``watch``: a submodule would shadow the
function): histograms of a PyTorch model's gradients and/or parameters every ``log_freq``
steps, through module hooks (torch is imported only when ``watch`` is called).

As in W&B: parameters are logged from a forward hook on the model every ``log_freq``-th
forward call (``parameters/<name>``), gradients from a hook on each parameter's gradient
every ``log_freq``-th backward pass (``gradients/<name>``); both with ``commit=False``, so
they join the row of the user's next ``log`` call. ``log`` is ``"gradients"`` (default),
``"parameters"``, ``"all"`` or None.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbtrack.wandb.errors import Error, note_once, notice

if TYPE_CHECKING:  # pragma: no cover
    from nbtrack.wandb.run import WandbRun

_LOG_CHOICES = ("gradients", "parameters", "all", None)


class _Watch:
    """The hooks on one model; :meth:`remove` takes them off."""

    def __init__(self, run: WandbRun, model: Any, log: str | None, log_freq: int,
                 prefix: str) -> None:
        self.run, self.model, self.log_freq, self.prefix = run, model, log_freq, prefix
        self.handles: list[Any] = []
        self.forward_calls = 0
        self.backward_calls: dict[str, int] = {}
        if log in ("parameters", "all"):
            self.handles.append(model.register_forward_hook(self._after_forward))
        if log in ("gradients", "all"):
            for name, param in model.named_parameters():
                if param.requires_grad:
                    self.handles.append(param.register_hook(self._grad_hook(name)))

    def _histogram(self, tensor: Any) -> Any:
        from nbtrack.media.values import Histogram

        flat = tensor.detach().float().reshape(-1).cpu().numpy()
        return Histogram(flat, bins=64)

    def _log(self, data: dict[str, Any]) -> None:
        try:
            self.run.log(data, commit=False)
        except Exception as exc:  # noqa: BLE001 - tracking never breaks training
            notice(f"nbtrack.wandb.watch could not log {sorted(data)}: {exc!r}")

    def _after_forward(self, module: Any, inputs: Any, output: Any) -> None:
        if not module.training:
            return
        self.forward_calls += 1
        if self.forward_calls % self.log_freq:
            return
        self._log({f"{self.prefix}parameters/{name}": self._histogram(param)
                   for name, param in module.named_parameters()})

    def _grad_hook(self, name: str) -> Any:
        def hook(grad: Any) -> None:
            count = self.backward_calls.get(name, 0) + 1
            self.backward_calls[name] = count
            if count % self.log_freq == 0:
                self._log({f"{self.prefix}gradients/{name}": self._histogram(grad)})

        return hook

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []


def watch(run: WandbRun, models: Any, *, log: str | None = "gradients", log_freq: int = 1000,
          log_graph: bool = False) -> list[_Watch]:
    """Hook ``models`` (a ``torch.nn.Module`` or several); return the watches."""
    try:
        import torch
    except ImportError as exc:
        raise ImportError(f"wandb.watch needs PyTorch: pip install torch ({exc})") from exc
    if log not in _LOG_CHOICES:
        raise ValueError("log must be one of 'gradients', 'parameters', 'all', or None")
    if not isinstance(log_freq, int) or isinstance(log_freq, bool) or log_freq < 1:
        raise ValueError(f"log_freq must be a whole number >= 1, not {log_freq!r}")
    if log_graph:
        note_once("watch.log_graph", "nbtrack.wandb: watch(log_graph=True) has no local "
                  "meaning yet; the graph is not logged")
    model_list = list(models) if isinstance(models, (list, tuple)) else [models]
    for model in model_list:
        if not isinstance(model, torch.nn.Module):
            raise Error(f"Expected a pytorch model (torch.nn.Module). Received {type(model)}")
    if log is None:
        return []
    many = len(model_list) > 1
    return [_Watch(run, m, log, log_freq, f"graph_{i}/" if many else "")
            for i, m in enumerate(model_list)]


def unwatch(watches: list[_Watch], models: Any = None) -> list[_Watch]:
    """Remove the hooks of ``models`` (default: all); return the watches left."""
    if models is None:
        targets = None
    else:
        targets = {id(m) for m in (models if isinstance(models, (list, tuple)) else [models])}
    kept = []
    for w in watches:
        if targets is None or id(w.model) in targets:
            w.remove()
        else:
            kept.append(w)
    return kept


__all__ = ["unwatch", "watch"]
