"""``LoadedModel``: a logged model back in memory, predicting like the original."""

from __future__ import annotations

from typing import Any

from nbtrack.models.flavors import Flavor
from nbtrack.models.inputs import prepare
from nbtrack.models.signature import Signature


class LoadedModel:
    """A model loaded by :func:`nbtrack.load_model`.

    Attributes
    ----------
    raw : the native model (a scikit-learn estimator, an XGBoost/LightGBM booster or
        wrapper, a torch module in eval mode, a Keras model...).
    flavor : ``"sklearn"``, ``"xgboost"``, ``"lightgbm"``, ``"pytorch"``, ``"torchscript"``,
        ``"keras"`` or ``"python"``.
    signature : the inputs and outputs (MLflow's column/tensor specs as JSON), or None.
    ref : ``"name:v3"`` (the folder's path for a model loaded from a folder).
    metadata : the artifact version's metadata.
    packages : ``{distribution: version}`` recorded when the model was logged.
    input_example : the example logged with the model (a DataFrame or array), or None.
    """

    def __init__(self, raw: Any, flavor: Flavor, *, signature: Signature | None, ref: str,
                 metadata: dict[str, Any], packages: dict[str, str],
                 example: dict[str, Any] | None) -> None:
        self.raw = raw
        self._flavor = flavor
        self.flavor = flavor.name
        self.signature = signature
        self.ref = ref
        self.metadata = metadata
        self.packages = packages
        self._example = example

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """The native model's predictions (numpy or pandas, as the model returns them).

        ``data``: a pandas DataFrame, a numpy array, a list of rows or of row dicts, or a
        dict of columns; converted per the signature (column order and types, tensor dtype
        and shape). ``params`` are passed to the native predict as keyword arguments.
        """
        inputs = self.signature["inputs"] if self.signature else None
        return self._flavor.predict(self.raw, prepare(data, inputs), params)

    @property
    def input_example(self) -> Any:
        """The logged input example, converted as :meth:`predict` converts input."""
        if self._example is None:
            return None
        inputs = self.signature["inputs"] if self.signature else None
        if "inputs" in self._example:
            return prepare(self._example["inputs"], inputs)
        import pandas as pd

        frame = pd.DataFrame(self._example["data"], columns=self._example["columns"])
        return prepare(frame, inputs) if inputs else frame

    def __repr__(self) -> str:
        return f"<LoadedModel {self.ref} ({self.flavor}) {type(self.raw).__name__}>"
