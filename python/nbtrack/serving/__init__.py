"""``nbtrack serve``: an HTTP scoring server speaking MLflow's scoring protocol.

The parts, each with one job:

- :mod:`~nbtrack.serving.payload`: a request body (JSON or CSV) -> the model's input and params;
- :mod:`~nbtrack.serving.responses`: predictions and errors -> MLflow-shaped JSON;
- :mod:`~nbtrack.serving.scoring`: one ``/invocations`` request, start to end (no HTTP);
- :mod:`~nbtrack.serving.holder`: the model being served, and switching it when its alias moves;
- :mod:`~nbtrack.serving.sources`: where models come from (the store, or a pickle for development);
- :mod:`~nbtrack.serving.app`: the tornado handlers; :mod:`~nbtrack.serving.runner`: the
  server's life (bind, signals, drain);
- :mod:`~nbtrack.serving.command`: the ``nbtrack serve`` click command.

Only this package (and ``server/``) imports tornado; nothing here is imported by
``import nbtrack``.
"""
