"""``nbtrack import``: runs recorded by other trackers, brought into the workspace.

- :mod:`~nbtrack.importers.detect`: which reader a PATH needs;
- readers, each yielding :class:`~nbtrack.importers.source.SourceRun` (and
  :class:`~nbtrack.importers.source.Problem` for what cannot be read):
  :mod:`~nbtrack.importers.mlflow_store` (MLflow file store or SQLite database, through
  mlflow's store classes), :mod:`~nbtrack.importers.wandb_offline` (W&B transaction logs,
  decoded with wandb's protobuf), :mod:`~nbtrack.importers.tensorboard_events` (event files,
  through the tensorboard package's reader);
- :mod:`~nbtrack.importers.write`: the runs into the store, once (``run_sources``);
- :mod:`~nbtrack.importers.command`: the click command.

Each reader's package is an optional extra (``nbtrack[mlflow]``, ``nbtrack[wandb]``,
``nbtrack[tensorboard]``), imported only when that format is read.
"""
