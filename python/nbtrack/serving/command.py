"""``nbtrack serve REF``: the click command (registered in ``nbtrack.cli``).

Imports nothing heavy at module level: ``nbtrack --help`` must stay fast. The server modules
(tornado, pandas, numpy) are imported when the command runs.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from nbtrack.cli_support import db_path, workspace_option

if TYPE_CHECKING:
    from nbtrack.serving.holder import ModelSource


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def _setup_logging() -> None:
    logger = logging.getLogger("nbtrack.serving")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s nbtrack serve: %(message)s",
                                               "%H:%M:%S"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.INFO)


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("ref", required=False)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. There is no authentication: anything but a loopback"
                   " address lets anyone who can reach the port use the model.")
@click.option("--port", type=click.IntRange(0, 65535), default=5000, show_default=True,
              help="Port to listen on (0: any free port; the log says which).")
@click.option("--follow-alias", is_flag=True,
              help="Switch to the version REF's alias points at whenever it moves, without"
                   " dropping requests.")
@click.option("--poll", type=click.FloatRange(min=0.05), default=5.0, show_default=True,
              metavar="SECONDS", help="With --follow-alias: how often to check the alias.")
@click.option("--trusted", is_flag=True,
              help="Allow loading a model imported from elsewhere (unpickling runs its code).")
@click.option("--workers", type=click.IntRange(min=1), default=4, show_default=True,
              help="Threads answering /invocations concurrently.")
@click.option("--model-pickle", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              hidden=True, help="Development: serve a pickled object with predict().")
@workspace_option
def serve(ref: str | None, host: str, port: int, follow_alias: bool, poll: float, trusted: bool,
          workers: int, model_pickle: Path | None) -> None:
    """Serve a model over HTTP with MLflow's scoring protocol.

    REF names a model: a registered version (name@alias, name/3, models:/name@alias), an
    artifact (name:v3, name:alias) or runs:/RUN/NAME. The server answers GET /ping, /health,
    /version and POST /invocations with JSON (dataframe_split, dataframe_records, instances or
    inputs, plus optional params) or CSV, with {"predictions": [...]}, like
    `mlflow models serve`, so MLflow clients work unchanged. It listens on 127.0.0.1 only
    unless --host says otherwise, and has no authentication. SIGTERM or Ctrl-C stops it after
    the requests in flight are answered.

    Example:

    \b
        nbtrack serve clf@production --port 5000 --follow-alias
        curl -s localhost:5000/invocations -H 'Content-Type: application/json' \\
          -d '{"dataframe_split": {"columns": ["x1", "x2"], "data": [[0.5, 1.2]]}}'
    """
    from nbtrack.serving import sources

    source: ModelSource
    if model_pickle is not None:
        source, label = sources.PickleSource(model_pickle), model_pickle.name
    elif ref:
        source, label = sources.StoreSource(db_path(), ref, trusted=trusted), ref
        if follow_alias and sources.is_fixed_ref(ref):
            click.echo(f"warning: {ref} names one version for good: --follow-alias has"
                       " nothing to follow", err=True)
    else:
        raise click.UsageError("give the model to serve, e.g. nbtrack serve clf@production")
    run(source, label, host=host, port=port, poll=poll if follow_alias else None,
        workers=workers)


def run(source: ModelSource, label: str, *, host: str, port: int, poll: float | None,
        workers: int) -> None:
    """Load ``source``'s model and serve it until SIGTERM/SIGINT (the command's body)."""
    from nbtrack.serving.holder import ModelHolder
    from nbtrack.serving.runner import ScoringServer, is_loopback

    _setup_logging()
    log = logging.getLogger("nbtrack.serving")
    holder = ModelHolder(source)
    try:
        loaded = holder.load()
    except LookupError as exc:  # no such model, alias, version or run
        _fail(str(exc.args[0] if exc.args else exc))
    except ValueError as exc:  # not a model, or not a reference
        _fail(str(exc), 2)
    except Exception as exc:  # UntrustedModelError, a framework failing to load...
        _fail(f"could not load {label}: {type(exc).__name__}: {exc}")
    if not is_loopback(host):
        log.warning("WARNING: listening on %s with no authentication: anyone who can reach"
                    " this port can use the model", host)
    server = ScoringServer(holder, host=host, port=port, workers=workers, poll=poll)

    def ready(url: str) -> None:
        following = f", following {label} every {poll:g} s" if poll is not None else ""
        log.info("serving %s (%s) at %s (POST /invocations%s; Ctrl-C to stop)",
                 label, loaded.label, url, following)

    try:
        server.run(on_ready=ready)
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc}")
