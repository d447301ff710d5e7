"""TorchScript modules (``torch.jit.script``/``trace``), saved with ``torch.jit.save``. The
archive holds TorchScript code, so loading it needs the workspace's mark (see
:mod:`nbtrack.models.trust`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbtrack.models.flavors import torch_io
from nbtrack.models.flavors.base import in_mro


class TorchScriptFlavor:
    name = "torchscript"

    def detects(self, model: Any) -> bool:
        return in_mro(model, "torch.jit")

    def save(self, model: Any, folder: Path, rebuild: Any) -> dict[str, Any]:
        import torch

        torch.jit.save(model, str(folder / "model.pt"))
        return {"model": "model/model.pt", "format": "torchscript"}

    def load(self, root: Path, files: dict[str, Any]) -> Any:
        import torch

        model = torch.jit.load(  # type: ignore[no-untyped-call]
            str(root / files["model"]), map_location="cpu")
        model.eval()
        return model

    def predict(self, model: Any, data: Any, params: dict[str, Any] | None) -> Any:
        return torch_io.run(model, data, params)

    def packages(self, model: Any) -> list[str]:
        return ["torch"]

    def pickled(self, files: dict[str, Any]) -> bool:
        return True
