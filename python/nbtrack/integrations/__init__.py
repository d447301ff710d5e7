"""Framework integrations: thin adapters on each framework's own extension point.

- :mod:`nbtrack.integrations.xgboost`: ``NbtrackCallback``, an XGBoost ``TrainingCallback``.
- :mod:`nbtrack.integrations.lightgbm`: ``NbtrackCallback``, a LightGBM callback.
- :mod:`nbtrack.integrations.keras`: ``NbtrackCallback``, a ``keras.callbacks.Callback``.
- :mod:`nbtrack.integrations.lightning`: ``NbtrackLogger``, a Lightning ``Logger``.
- :mod:`nbtrack.integrations.transformers`: ``NbtrackCallback``, a ``TrainerCallback``.

Each logs into the active run if there is one (and leaves it open), else starts a run and
finishes it when training ends. Importing one of these modules does not import its framework;
constructing the callback does (a missing framework is an ``ImportError`` naming it).
"""

from __future__ import annotations
