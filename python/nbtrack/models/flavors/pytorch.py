"""PyTorch ``nn.Module``: its ``state_dict`` (``torch.save``; loaded with
``weights_only=True``) plus ``rebuild``, a function returning the untrained module.

``rebuild`` is stored by reference (``module:qualified name``, as pickle stores functions),
so it must be a module-level function that can be imported where the model is loaded: from
a package or script module, or from ``__main__`` (a notebook) when loading in a process that
defines it again. Lambdas and nested functions are refused. Calling it runs code, so loading
needs the workspace's mark (see :mod:`nbtrack.models.trust`).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from nbtrack.models.flavors import torch_io
from nbtrack.models.flavors.base import in_mro


def reference(rebuild: Any) -> str:
    """``"module:qualname"`` of ``rebuild``, checked to import back to the same object."""
    module = getattr(rebuild, "__module__", None)
    qualname = getattr(rebuild, "__qualname__", None)
    if not callable(rebuild) or not module or not qualname or "<" in qualname:
        raise ValueError(
            f"rebuild={rebuild!r} cannot be stored: give a module-level function (or class)"
            " that returns the untrained module; lambdas and nested functions cannot be"
            " imported again")
    if resolve(f"{module}:{qualname}", load=module != "__main__") is not rebuild:
        raise ValueError(f"rebuild={rebuild!r} is not importable as {module}.{qualname}")
    return f"{module}:{qualname}"


def resolve(ref: str, *, load: bool = True) -> Any:
    """The object ``"module:qualname"`` names (importing the module when ``load``)."""
    module_name, _, qualname = ref.partition(":")
    module = importlib.import_module(module_name) if load else sys.modules.get(module_name)
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if obj is None:
        where = "this notebook or script" if module_name == "__main__" else module_name
        raise LookupError(f"the model's rebuild function {qualname!r} is not defined in"
                          f" {where}: define it before loading the model")
    return obj


class PyTorchFlavor:
    name = "pytorch"

    def detects(self, model: Any) -> bool:
        return in_mro(model, "torch.nn")

    def save(self, model: Any, folder: Path, rebuild: Any) -> dict[str, Any]:
        import torch

        if rebuild is None:
            raise ValueError(
                f"a PyTorch module ({type(model).__name__}) needs rebuild=: a module-level"
                " function returning the untrained module (its state dict is loaded into"
                " it); or log a TorchScript module (torch.jit.script(model))")
        ref = reference(rebuild)
        fresh = rebuild()
        if not isinstance(fresh, torch.nn.Module):
            raise TypeError(f"rebuild() returned {type(fresh).__name__}, not a torch.nn.Module")
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        try:
            fresh.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ValueError(f"rebuild() gives a module the state dict does not fit: {exc}"
                             ) from None
        torch.save(state, str(folder / "state_dict.pt"))
        return {"state_dict": "model/state_dict.pt", "rebuild": ref, "format": "state_dict"}

    def load(self, root: Path, files: dict[str, Any]) -> Any:
        import torch

        state = torch.load(str(root / files["state_dict"]), map_location="cpu",
                           weights_only=True)
        model = resolve(files["rebuild"])()
        model.load_state_dict(state, strict=True)
        model.eval()
        return model

    def predict(self, model: Any, data: Any, params: dict[str, Any] | None) -> Any:
        return torch_io.run(model, data, params)

    def packages(self, model: Any) -> list[str]:
        return ["torch"]

    def pickled(self, files: dict[str, Any]) -> bool:
        return True  # rebuild is imported and called
