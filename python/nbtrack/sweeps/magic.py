"""``%%track sweep NAME --trials 20 lr=loguniform(1e-4,1e-1) depth=intrange(2,8)``: the cell
body is the objective, run once per trial with those names bound in the notebook.

The body's last expression (if any) is the trial's value, else the metric's summary in the
trial's run. After the sweep the names hold what they held before; the cell's result is the
:class:`~nbtrack.sweeps.Sweep`. The kernel's ``%%track`` magic hands ``sweep ...`` lines here
(:func:`sweep_cell`); this module never imports IPython: a bad line raises ValueError, which
the magic shows as a usage error.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Callable, MutableMapping
from typing import Any

from nbtrack.sweeps import space as _space

__all__ = ["parse_distribution", "parse_line", "split_words", "sweep_cell"]

_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "uniform": _space.uniform, "loguniform": _space.loguniform, "intrange": _space.intrange,
    "choice": _space.choice, "constant": _space.constant,
}
_MISSING = object()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would exit the kernel
        raise ValueError(f"%%track sweep: {message}; see %track?")


def build_parser() -> argparse.ArgumentParser:
    """The options of ``%%track sweep``."""
    parser = _Parser(prog="%%track sweep", add_help=False, description=(
        "Run this cell as a hyperparameter sweep: once per trial, with the names given as "
        "name=distribution bound to that trial's values."))
    parser.add_argument("name", nargs="?", help="the sweep's name (re-run it to continue)")
    parser.add_argument("--trials", type=int, default=None, help="the sweep's size")
    parser.add_argument("--metric", default="val/loss", help="the target metric")
    parser.add_argument("--goal", default="min", choices=["min", "max"])
    parser.add_argument("--method", default="tpe", help="tpe, random, grid, cmaes, gp, qmc")
    parser.add_argument("--pruner", default="median",
                        help="median, hyperband, successive_halving, none")
    parser.add_argument("--timeout", type=float, default=None, help="seconds")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--storage", default=None, help="a journal path or a database URL")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--max-failures", type=int, default=5)
    parser.add_argument("--no-progress", action="store_true")
    return parser


def split_words(line: str) -> list[str]:
    """Split on spaces outside brackets and quotes: ``lr=loguniform(1e-4, 1e-1)`` is one word."""
    words: list[str] = []
    current: list[str] = []
    depth = 0
    quote: str | None = None
    for ch in line:
        if quote is not None:
            current.append(ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            current.append(ch)
        elif ch in "([{":
            depth += 1
            current.append(ch)
        elif ch in ")]}":
            depth -= 1
            current.append(ch)
        elif ch.isspace() and depth <= 0:
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(ch)
    if quote is not None or depth != 0:
        raise ValueError(f"%%track sweep: unbalanced brackets or quotes in {line!r}")
    if current:
        words.append("".join(current))
    return words


def parse_distribution(name: str, source: str) -> _space.Distribution:
    """``loguniform(1e-4, 1e-1)``, ``intrange(2, 8)``, ``choice('adam', 'sgd')``,
    ``[16, 32, 64]`` (a choice) or a literal (a constant); arguments are literals only."""
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"{name}={source}: not a distribution ({exc.msg} at column "
                         f"{exc.offset})") from None
    try:
        if isinstance(tree, ast.Call):
            func = tree.func.id if isinstance(tree.func, ast.Name) else None
            if func not in _FUNCTIONS:
                raise ValueError(f"{name}={source}: use one of {', '.join(_FUNCTIONS)}")
            args = [ast.literal_eval(a) for a in tree.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in tree.keywords if k.arg}
            dist: Any = _FUNCTIONS[func](*args, **kwargs)
            return _space._as_distribution(name, dist)
        return _space._as_distribution(name, ast.literal_eval(tree))
    except (ValueError, TypeError) as exc:
        message = str(exc)
        if message.startswith(f"{name}="):
            raise
        raise ValueError(f"{name}={source}: {message}") from None


def parse_line(line: str) -> tuple[argparse.Namespace, dict[str, _space.Distribution]]:
    """The options and the space of a ``%%track sweep`` line (without the word ``sweep``)."""
    options: list[str] = []
    space: dict[str, _space.Distribution] = {}
    for word in split_words(line):
        key, sep, source = word.partition("=")
        if sep and not word.startswith("-") and key.isidentifier():
            space[key] = parse_distribution(key, source)
        else:
            options.append(word)
    args = build_parser().parse_args(options)
    if not space:
        raise ValueError("%%track sweep: name the params to search, e.g.  %%track sweep lr-search "
                         "--trials 20 lr=loguniform(1e-4,1e-1) depth=intrange(2,8)")
    return args, space


def sweep_cell(line: str, cell: str, *, run_body: Callable[[str], Any],
               namespace: MutableMapping[str, Any]) -> Any:
    """Run ``cell`` as a sweep (see the module docstring); return the :class:`Sweep`."""
    from nbtrack.sweeps.sweep import sweep

    args, space = parse_line(line)
    saved = {name: namespace.get(name, _MISSING) for name in space}

    def objective(config: dict[str, Any]) -> Any:
        namespace.update(config)
        return run_body(cell)

    try:
        return sweep(objective, space, n_trials=args.trials, metric=args.metric,
                     goal=args.goal, method=args.method,
                     pruner=None if args.pruner == "none" else args.pruner, name=args.name,
                     timeout=args.timeout, resume=args.resume, storage=args.storage,
                     seed=args.seed, max_failures=args.max_failures,
                     progress=not args.no_progress)
    finally:
        for name, value in saved.items():
            if value is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = value
