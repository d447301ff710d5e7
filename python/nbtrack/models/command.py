"""``nbtrack export-model``: write a logged model in another tool's format (MLflow)."""

from __future__ import annotations

from pathlib import Path

import click

from nbtrack.cli_support import db_path, errors, fail, workspace_option


@click.command("export-model")
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(["mlflow"]), default="mlflow",
              show_default=True, help="The format to write.")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The folder to write (must not exist, or be empty).")
@click.option("--trusted", is_flag=True,
              help="Export a model this workspace did not log (its files run code when"
                   " loaded: only for models from a source you trust).")
@workspace_option
@errors
def export_model(ref: str, fmt: str, out: Path, trusted: bool) -> None:
    """Export a logged model (REF: name:v3, name:alias, runs:/RUN/NAME, name@alias,
    name/3) as an MLflow model directory that `mlflow.pyfunc.load_model` and `mlflow
    models serve` accept, predicting as nbtrack.load_model does.

    Example:

    \b
        nbtrack export-model iris-clf:latest --format mlflow -o exported/iris
        mlflow models serve -m exported/iris --env-manager local -p 5001
    """
    from nbtrack.artifacts.files import ArtifactIntegrityError
    from nbtrack.models import refs
    from nbtrack.models.mlflow_export import export_mlflow
    from nbtrack.models.trust import UntrustedModelError
    from nbtrack.store import access

    path = db_path()
    try:
        with access.reading(path) as db:
            version_id = refs.resolve(db, ref)
        folder = export_mlflow(path, version_id, out, trusted=trusted)
    except (LookupError, UntrustedModelError, ArtifactIntegrityError) as exc:
        fail(f"error: {exc.args[0] if exc.args else exc}")
        return
    click.echo(f"wrote the MLflow model {ref} ({fmt}) to {folder}")
