"""``nbtrack models``: the model registry from a shell (list, show, alias, describe, tag).

Added to the ``nbtrack`` group by :mod:`nbtrack.cli`; the same options (from
:mod:`nbtrack.cli_support`), errors and exit codes:
0 ok, 1 unknown model, version or alias, 2 usage error (a bad name, alias or argument).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from typing import Any

import click

from nbtrack import wire
from nbtrack.cli_support import F, workspace_option
from nbtrack.cli_support import db_path as _db_path
from nbtrack.cli_support import errors as _errors
from nbtrack.cli_support import fail as _fail
from nbtrack.cli_support import workspace as _workspace


def _model_errors(f: F) -> F:
    """An unknown model, version or alias -> exit 1; a bad name or argument -> exit 2."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from nbtrack.registry import ModelNotFound

        try:
            return f(*args, **kwargs)
        except ModelNotFound as exc:
            _fail(f"error: {exc.args[0] if exc.args else exc}")

    return _errors(wrapper)  # type: ignore[return-value]


def _table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def _pairs(mapping: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in mapping.items()) or "-"


@click.group()
@workspace_option
def models() -> None:
    """The model registry: named models whose versions 1, 2, ... point at logged model
    artifacts, with aliases, tags and descriptions: `list`, `show NAME`,
    `alias NAME VERSION ALIAS [--delete]`, `describe NAME TEXT`, `tag NAME KEY VALUE`.

    Register versions from Python: nbtrack.register_model("clf:latest", "iris").

    Example:

    \b
        nbtrack models list
        nbtrack models show iris
        nbtrack models alias iris 2 production
        nbtrack models describe iris --version 2 "retrained on March data"
        nbtrack models tag iris owner ml-team
    """


@models.command("list")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: {\"models\": [...]}, as GET nbtrack/api/models answers.")
@workspace_option
@_model_errors
def models_list(as_json: bool) -> None:
    """Every registered model: name, versions, latest version, aliases, last change.

    Example:

    \b
        nbtrack models list --json
    """
    from nbtrack.registry.responses import models_list as listing

    data = listing(_db_path())
    if as_json:
        click.echo(wire.dumps(data, indent=2))
        return
    if not data["models"]:
        click.echo("no registered models (register one with nbtrack.register_model)")
        return
    _table([("name", "versions", "latest", "aliases", "updated", "description")] + [
        (m["name"], str(m["versions"]), str(m["latest_version"]),
         ", ".join(f"{a}->{v}" for a, v in m["aliases"].items()), _when(m["updated"]),
         m["description"].splitlines()[0][:60] if m["description"] else "")
        for m in data["models"]])


@models.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: the model and its versions, as GET nbtrack/api/models/NAME"
                   " answers.")
@workspace_option
@_model_errors
def models_show(name: str, as_json: bool) -> None:
    """One registered model: its description, tags, aliases and every version (the artifact
    it points at, the run that logged it, its flavor and signature).

    Example:

    \b
        nbtrack models show iris
    """
    from nbtrack.registry.responses import model_detail

    data = model_detail(_db_path(), name)
    if as_json:
        click.echo(wire.dumps(data, indent=2))
        return
    click.echo(f"{data['name']}  ({len(data['versions'])} versions)")
    if data["description"]:
        click.echo(data["description"])
    click.echo(f"tags: {_pairs(data['tags'])}")
    click.echo(f"aliases: {', '.join(f'{a} -> {v}' for a, v in data['aliases'].items()) or '-'}")
    for v in reversed(data["versions"]):
        aliases = f"  [{', '.join(v['aliases'])}]" if v["aliases"] else ""
        click.echo(f"version {v['version']}{aliases}")
        run = v["run"]
        made = f"run {run['number']} {run['name']} ({run['run_id']})" if run else "-"
        click.echo(f"  artifact: {v['artifact']}  logged by: {made}  registered:"
                   f" {_when(v['created'])}")
        if v["flavor"]:
            click.echo(f"  flavor: {v['flavor']}")
        if v["signature"]:
            click.echo(f"  signature: {_signature(v['signature'])}")
        if v["description"]:
            click.echo(f"  {v['description']}")
        if v["tags"]:
            click.echo(f"  tags: {_pairs(v['tags'])}")


def _signature(signature: dict[str, Any]) -> str:
    def side(specs: Any) -> str:
        if not isinstance(specs, list):
            return "?"
        parts = []
        for s in specs:
            if not isinstance(s, dict):
                continue
            kind = s.get("type", "?")
            if kind == "tensor":
                kind = f"tensor {s.get('dtype', '?')}{s.get('shape', '')}"
            parts.append(f"{s['name']}: {kind}" if s.get("name") else str(kind))
        return "(" + ", ".join(parts) + ")"

    outputs = signature.get("outputs")
    return side(signature.get("inputs")) + (f" -> {side(outputs)}" if outputs else "")


@models.command("alias")
@click.argument("name")
@click.argument("version", type=click.IntRange(min=1))
@click.argument("alias")
@click.option("--delete", is_flag=True,
              help="Remove ALIAS instead (it must name VERSION).")
@workspace_option
@_model_errors
def models_alias(name: str, version: int, alias: str, delete: bool) -> None:
    """Point ALIAS of model NAME at VERSION (moving it from the version it named), or remove
    it with --delete.

    Example:

    \b
        nbtrack models alias iris 3 production
        nbtrack models alias iris 3 production --delete
    """
    from nbtrack.registry import ModelNotFound, delete_alias, get_model, set_alias

    if delete:
        current = get_model(name, workspace=_workspace()).aliases.get(alias)
        if current != version:
            where = "no version" if current is None else f"version {current}"
            raise ModelNotFound(f"alias {alias!r} of model {name!r} names {where}, not"
                                f" version {version}")
        delete_alias(name, alias, workspace=_workspace())
        click.echo(f"removed {name}@{alias} (it named version {version})")
        return
    set_alias(name, alias, version, workspace=_workspace())
    click.echo(f"{name}@{alias} -> version {version}")


@models.command("describe")
@click.argument("name")
@click.argument("text")
@click.option("--version", "version", type=click.IntRange(min=1), default=None, metavar="N",
              help="Describe version N instead of the model.")
@workspace_option
@_model_errors
def models_describe(name: str, text: str, version: int | None) -> None:
    """Set the description of model NAME (or of its version N).

    Example:

    \b
        nbtrack models describe iris "Iris species classifier"
        nbtrack models describe iris --version 2 "retrained with more data"
    """
    from nbtrack.registry import set_model_description

    set_model_description(name, text, version, workspace=_workspace())
    click.echo(f"described {name}" + (f" version {version}" if version else ""))


@models.command("tag")
@click.argument("name")
@click.argument("key")
@click.argument("value")
@click.option("--version", "version", type=click.IntRange(min=1), default=None, metavar="N",
              help="Tag version N instead of the model.")
@workspace_option
@_model_errors
def models_tag(name: str, key: str, value: str, version: int | None) -> None:
    """Set tag KEY of model NAME (or of its version N) to VALUE.

    Example:

    \b
        nbtrack models tag iris owner ml-team
        nbtrack models tag iris validated yes --version 2
    """
    from nbtrack.registry import set_model_tag

    set_model_tag(name, key, value, version, workspace=_workspace())
    click.echo(f"tagged {name}" + (f" version {version}" if version else "") + f": {key}={value}")
