"""What every ``nbtrack`` subcommand shares: the ``--workspace`` option, the workspace and
store it names, and the mapping of user errors to exit codes (1 not found, 2 usage error).

Subcommands in other modules (``nbtrack.cli_models``, ``nbtrack.serving.command``...) build on
these, so they import this module rather than :mod:`nbtrack.cli`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from nbtrack import config, wire
from nbtrack.filter import FilterError
from nbtrack.store.queries import RunNotFound

F = TypeVar("F", bound=Callable[..., Any])

#: Where ``--workspace`` leaves its value in the click context's ``meta``.
WORKSPACE_KEY = "nbtrack.workspace"


# -- shared options and plumbing ------------------------------------------------------------

def _set_workspace(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.meta[WORKSPACE_KEY] = value.expanduser().resolve()


def workspace_option(f: F) -> F:
    """``--workspace PATH`` on the group and on every command (the command's wins)."""
    return click.option(
        "--workspace", type=click.Path(file_okay=False, path_type=Path), default=None,
        expose_value=False, is_eager=True, callback=_set_workspace,
        help="Workspace folder holding .nbtrack/ (default: $NBTRACK_DIR or the nearest"
             " .nbtrack/ above the working directory).",
    )(f)


def workspace() -> Path:
    """The workspace folder this command works on."""
    ctx = click.get_current_context()
    ws = ctx.meta.get(WORKSPACE_KEY)
    return ws if ws is not None else config.workspace_dir()


def db_path() -> Path:
    """The store file of :func:`workspace`."""
    return config.db_path(workspace())


def fail(message: str) -> None:
    """Print ``message`` to stderr and exit 1 (not found / nothing matched)."""
    click.echo(message, err=True)
    raise SystemExit(1)


def errors(f: F) -> F:
    """Map the errors users cause: unknown run -> exit 1, bad filter or argument -> exit 2."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except RunNotFound as exc:
            fail(f"error: {exc.args[0] if exc.args else exc}")
        except FilterError as exc:
            raise click.UsageError(f"bad --where filter:\n{exc}") from None
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def reading_store() -> Iterator[Any]:
    """A read-only connection to the store (an empty store if nothing was recorded yet)."""
    from nbtrack.responses import reading

    with reading(db_path()) as db:
        yield db


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON (NaN as null)."""
    click.echo(wire.dumps(data, indent=2))
