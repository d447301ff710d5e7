"""Keras 3 models, saved as ``model.keras`` (``model.save``) and loaded with the active
backend and ``safe_mode=True``.

The archive is made reproducible (fixed zip timestamps, ``date_saved`` dropped from its
``metadata.json``, which loading does not read), so logging the same model twice gives the
same version. The archive's config names the classes to rebuild, so loading needs the
workspace's mark like the pickled formats (see :mod:`nbtrack.models.trust`).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from nbtrack.models.flavors.base import in_mro

_EPOCH = (1980, 1, 1, 0, 0, 0)


def canonical_zip(path: Path) -> None:
    """Rewrite the zip at ``path`` without timestamps (entries and bytes otherwise kept)."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "metadata.json":
                meta = json.loads(data)
                meta.pop("date_saved", None)
                data = json.dumps(meta, sort_keys=True).encode()
            entry = zipfile.ZipInfo(info.filename, date_time=_EPOCH)
            entry.compress_type = info.compress_type
            entry.external_attr = info.external_attr
            dst.writestr(entry, data)
    tmp.replace(path)


_BACKENDS = {"jax": ["jax", "jaxlib"], "tensorflow": ["tensorflow"], "torch": ["torch"]}


class KerasFlavor:
    name = "keras"

    def detects(self, model: Any) -> bool:
        return in_mro(model, "keras") and callable(getattr(model, "save", None))

    def save(self, model: Any, folder: Path, rebuild: Any) -> dict[str, Any]:
        path = folder / "model.keras"
        model.save(str(path))
        canonical_zip(path)
        return {"model": "model/model.keras", "format": "keras"}

    def load(self, root: Path, files: dict[str, Any]) -> Any:
        import keras

        return keras.saving.load_model(str(root / files["model"]), safe_mode=True)

    def predict(self, model: Any, data: Any, params: dict[str, Any] | None) -> Any:
        import numpy as np

        if hasattr(data, "to_numpy"):
            data = data.to_numpy()
        elif not isinstance(data, dict):
            data = np.asarray(data)
        return model.predict(data, verbose=0, **(params or {}))

    def packages(self, model: Any) -> list[str]:
        import keras

        return ["keras", *_BACKENDS.get(keras.backend.backend(), [])]

    def pickled(self, files: dict[str, Any]) -> bool:
        return True
