"""The ``%track`` line magic and ``%%track`` cell magic.

Arguments are declared once in :func:`build_parser`; ``%track?`` shows the help of every
subcommand, and a mistake raises ``UsageError`` saying what to type instead.
"""

from __future__ import annotations

import argparse
import ast
import warnings
from collections.abc import Mapping
from typing import Any

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import MagicArgumentParser
from IPython.display import display
from IPython.utils.process import arg_split  # type: ignore[attr-defined]  # re-exported per OS

import nbtrack
from nbtrack import api, assignments, recorder, session, text
from nbtrack.capture import scalar_params
from nbtrack.kernel.hooks import CellHooks
from nbtrack.store.queries import RunNotFound


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """``["lr=0.01", "opt=adam"]`` -> ``{"lr": 0.01, "opt": "adam"}``.

    Values are Python literals where they parse as one, else strings (the rules of
    :func:`nbtrack.assignments.parse_assignments`, shared with ``nbtrack run -p``).
    """
    try:
        return assignments.parse_assignments(items)
    except ValueError as exc:
        raise UsageError(f"{exc}: for example  %track start baseline lr=0.01") from None


def build_parser(prog: str = "%track") -> MagicArgumentParser:
    """The declared arguments of ``%track`` (subcommands) and ``%%track``."""
    parser = MagicArgumentParser(  # type: ignore[no-untyped-call]  # IPython's, untyped
        prog=prog, description="Start, stop and annotate nbtrack runs.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=MagicArgumentParser)

    start = sub.add_parser("start", help="start a run (finishing the active one)",
                           description="Start a run. key=value pairs become params.")
    start.add_argument("name", nargs="?", help="the run's name (default run-<number>)")
    start.add_argument("params", nargs="*", metavar="key=value", help="params, e.g. lr=0.01")
    start.add_argument("--tag", "-t", action="append", default=[], help="a tag (repeatable)")
    start.add_argument("--notes", default="", help="notes about the run")
    start.add_argument("--no-auto-params", action="store_true",
                       help="don't record the notebook's settings as params (by default the "
                       "names a cell set to a literal: lr = 0.01, epochs = 3 * 10)")
    _system_arguments(start)

    stop = sub.add_parser("stop", help="finish the active run")
    stop.add_argument("--status", default="finished",
                      choices=["finished", "failed", "interrupted"])

    log = sub.add_parser("log", help="log metrics: %%track log loss=0.3 acc=0.9 [--step N]")
    log.add_argument("metrics", nargs="+", metavar="key=value")
    log.add_argument("--step", type=int, default=None)

    sub.add_parser("status", help="show the active run and what the writer did: calls "
                   "queued, points written, items lost, the last error")

    lst = sub.add_parser("list", help="list the workspace's runs, newest first")
    lst.add_argument("-n", type=int, default=20, help="how many runs (default 20)")
    lst.add_argument("--widget", action="store_true", help="an interactive table")
    lst.add_argument("--where", default=None,
                     help="a filter, e.g. --where 'params.lr < 0.01 and metrics.loss < 0.5'")

    watch = sub.add_parser("watch", help="record variables as params whenever a cell changes them")
    watch.add_argument("names", nargs="+", metavar="NAME")

    tag = sub.add_parser("tag", help="add tags to the active run")
    tag.add_argument("tags", nargs="+", metavar="TAG")

    note = sub.add_parser("note", help="set the active run's notes")
    note.add_argument("text", nargs="+")

    show = sub.add_parser("show", help="a run card inline (default: the active or latest run)")
    show.add_argument("run", nargs="?")

    diff = sub.add_parser("diff", help="compare two runs: params, metrics, code, variables")
    diff.add_argument("a")
    diff.add_argument("b")
    diff.add_argument("--all", action="store_true", help="include equal params")
    diff.add_argument("--text", action="store_true", help="plain text instead of a widget")

    report = sub.add_parser("report", help="export this notebook and its runs to HTML")
    report.add_argument("-o", "--output", default=None, help="the .html file to write")
    report.add_argument("--notebook", default=None, help="the notebook (default: this one)")
    return parser


def _system_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-system", action="store_true",
                        help="don't record system metrics (CPU, memory, disk, network, GPU)")
    parser.add_argument("--system-interval", type=float, default=None, metavar="S",
                        help="seconds between two system samples (default 10, or "
                        "$NBTRACK_SYSTEM_INTERVAL; at least 0.1)")


def build_cell_parser() -> MagicArgumentParser:
    parser = MagicArgumentParser(  # type: ignore[no-untyped-call]  # IPython's, untyped
        prog="%%track", description="Run this cell as one run: finished when the cell ends, "
        "failed if it raises, interrupted on interrupt.",
    )
    parser.add_argument("name", nargs="?", help="the run's name")
    parser.add_argument("params", nargs="*", metavar="key=value")
    parser.add_argument("--tag", "-t", action="append", default=[])
    parser.add_argument("--notes", default="")
    parser.add_argument("--no-auto-params", action="store_true")
    parser.add_argument("--plot", default=None, help="metrics to chart live, e.g. loss,acc")
    parser.add_argument("--no-plot", action="store_true", help="no live chart")
    _system_arguments(parser)
    return parser


def parse_line(parser: MagicArgumentParser, line: str) -> argparse.Namespace:
    """Parse a magic's line; ``key=value`` words may stand anywhere, even after options."""
    # POSIX splitting, so quotes group words and are removed: --where 'params.lr < 0.01'
    args, extra = parser.parse_known_args(arg_split(line, posix=True))
    stray = [w for w in extra if w.startswith("-") or "=" not in w]
    if stray:
        raise UsageError(
            f"unrecognized arguments: {' '.join(stray)}; see  %track?  for the options"
        )
    if extra:
        if not hasattr(args, "params"):
            raise UsageError(f"unrecognized arguments: {' '.join(extra)}")
        args.params = [*args.params, *extra]
    return args


def _split_name(name: str | None, params: list[str]) -> tuple[str | None, list[str]]:
    """argparse puts a leading key=value into ``name``: move it back to the params."""
    if name is not None and "=" in name:
        return None, [name, *params]
    return name, params


def store_status(store: Mapping[str, Any]) -> str:
    """One store of ``nbtrack.status()`` as the lines ``%track status`` prints."""
    writer = "running" if store["writer_alive"] else "stopped"
    line = (f"store {store['path']}: writer {writer}; {_count(store['queued'], 'call')} queued, "
            f"{_count(store['points_written'], 'point')} written, "
            f"{_count(store['lost'], 'item')} lost")
    if store.get("last_error"):
        line += f"\nlast error: {store['last_error']}"
    return line


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'s' * (n != 1)}"


def _shown_widget(table: Any) -> Any:
    """What ``%track list --widget`` returns: the table ``nbtrack.show_runs()`` displayed (to
    read ``.selected``), or None when it displayed nothing to keep (text outside a notebook,
    already printed; an nbtrack whose ``show_runs()`` returns nothing)."""
    from nbtrack.widgets import TextView

    return None if table is None or isinstance(table, TextView) else table


def _help_text() -> str:
    parser = build_parser()
    parts = [parser.format_help()]
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        choices: dict[str, argparse.ArgumentParser] = action.choices  # type: ignore[assignment]  # subparsers' choices map names to parsers
        for name, subparser in choices.items():
            parts.append(f"--- %track {name} ---\n{subparser.format_help()}")
    parts.append(build_cell_parser().format_help())
    from nbtrack.sweeps.magic import build_parser as sweep_parser

    parts.append(sweep_parser().format_help() + "  name=distribution  e.g. lr=loguniform(1e-4,"
                 "1e-1) depth=intrange(2,8) opt=choice('adam','sgd') bs=[16,32]\n")
    return "\n".join(parts)


@magics_class
class TrackMagics(Magics):
    """``%track`` and ``%%track``: see ``%track?``."""

    def __init__(self, shell: Any, hooks: CellHooks) -> None:
        super().__init__(shell)
        self.hooks = hooks
        self.parser = build_parser()
        self.cell_parser = build_cell_parser()

    def _start(self, args: argparse.Namespace) -> nbtrack.Run:
        name, params = _split_name(args.name, args.params)
        explicit = parse_assignments(params)
        config: dict[str, Any] = {}
        if not args.no_auto_params:
            # Only configuration-like names: bound by a literal assignment (lr = 0.01), not
            # loop counters or computed results (see capture.ConfigNames).
            shell = self._shell()
            config.update(scalar_params(shell.user_ns, shell.user_ns_hidden,
                                        names=self.hooks.config.names))
        config.update(explicit)
        interval = None
        if not args.no_system:
            from nbtrack.system import sampling_interval

            try:
                interval = sampling_interval(args.system_interval, "--system-interval")
            except ValueError as exc:
                raise UsageError(f"{exc}; e.g.  %track start --system-interval 1") from None
        return session.init(name=name, config=config, tags=args.tag, notes=args.notes,
                            system_metrics=not args.no_system, system_interval=interval)

    @line_magic
    def track(self, line: str) -> Any:
        args = parse_line(self.parser, line)
        command = args.command
        if command is None:
            print(_help_text())
            return None
        return getattr(self, f"_cmd_{command}")(args)

    def _cmd_start(self, args: argparse.Namespace) -> None:
        previous = session.active_run()
        run = self._start(args)
        if previous is not None:
            print(f"finished run #{previous.number} {previous.name!r}")
        print(f"started run #{run.number} {run.name!r} (id {run.id})")

    def _cmd_stop(self, args: argparse.Namespace) -> None:
        run = session.active_run()
        if run is None:
            raise UsageError("no active run to stop; start one with  %track start NAME")
        run.finish(args.status)
        print(f"{args.status} run #{run.number} {run.name!r}")

    def _cmd_log(self, args: argparse.Namespace) -> None:
        run = self._active("log")
        try:
            run.log(parse_assignments(args.metrics), step=args.step)
        except TypeError as exc:
            raise UsageError(f"{exc}; for example  %track log loss=0.25 acc=0.9") from None

    def _cmd_status(self, args: argparse.Namespace) -> None:
        run = session.active_run()
        if run is None:
            print("no active run (start one with  %track start NAME)")
        else:
            self._print_run(run)
        for store in session.status()["stores"]:
            print(store_status(store))

    def _print_run(self, run: nbtrack.Run) -> None:
        record = run.record()
        print(f"run #{record['number']} {record['name']!r} {record['status']} (id {record['id']})")
        print(f"started {text.fmt_time(record['started'])}, "
              f"running {text.fmt_duration(record['duration'])}")
        if record["tags"]:
            print("tags: " + ", ".join(record["tags"]))
        if record["params"]:
            print("params: " + ", ".join(f"{k}={text.fmt_value(v)}"
                                         for k, v in record["params"].items()))
        if record["summary"]:
            print("metrics: " + ", ".join(f"{k}={text.fmt_value(v)}"
                                          for k, v in record["summary"].items()))
        if self.hooks.watched:
            print("watching: " + ", ".join(self.hooks.watched))

    def _cmd_list(self, args: argparse.Namespace) -> Any:
        if args.n < 1:
            raise UsageError("-n takes a positive number, e.g.  %track list -n 10")
        try:  # a FilterError (a ValueError) names the column and what was expected
            if args.widget:
                return _shown_widget(nbtrack.show_runs(limit=args.n, where=args.where))
            listed = api.runs(limit=args.n, where=args.where)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        print(text.runs_table(listed.records(), total=listed.total))
        return None

    def _cmd_watch(self, args: argparse.Namespace) -> None:
        for name in args.names:
            if not name.isidentifier():
                raise UsageError(f"{name!r} is not a variable name; e.g.  %track watch lr epochs")
        now = self.hooks.watch(args.names)
        run = session.active_run()
        if run is not None and now:
            run.config.update(now)
        print("watching " + ", ".join(args.names))

    def _cmd_tag(self, args: argparse.Namespace) -> None:
        run = self._active("tag")
        run.tags = [*run.tags, *args.tags]

    def _cmd_note(self, args: argparse.Namespace) -> None:
        run = self._active("note")
        run.notes = " ".join(args.text)

    def _cmd_show(self, args: argparse.Namespace) -> Any:
        from nbtrack import widgets

        return widgets.run_card(self._ref(args.run))

    def _cmd_diff(self, args: argparse.Namespace) -> Any:
        try:
            result = api.diff(args.a, args.b)
        except RunNotFound as exc:
            raise UsageError(f"{exc}; see  %track list  for run numbers and names") from None
        if args.text:
            print(text.diff_text(result.record, show_all=args.all))
            return None
        from nbtrack import widgets

        return widgets.diff_view(result)

    def _cmd_report(self, args: argparse.Namespace) -> None:
        from nbtrack import report

        notebook = args.notebook or session.detect_notebook(nbtrack.config.workspace_dir())
        if not notebook:
            raise UsageError("can't tell which notebook this is; pass  --notebook PATH.ipynb")
        recorder.flush_all(10.0)  # the latest cells and points belong in the report
        path = report.export_report(notebook, args.output)
        print(f"wrote {path}")

    def _shell(self) -> InteractiveShell:
        shell = self.shell
        if shell is None:  # a Magics instance is always given its shell; for the type checker
            raise UsageError("%track needs an IPython shell")
        return shell

    def _active(self, what: str) -> nbtrack.Run:
        run = session.active_run()
        if run is None:
            raise UsageError(f"no active run to {what}; start one with  %track start NAME")
        return run

    def _ref(self, ref: str | None) -> nbtrack.Run:
        try:
            if ref is None:
                active = session.active_run()
                if active is not None:
                    return active
                latest = api.runs(limit=1)
                if not len(latest):
                    raise UsageError("no runs yet; start one with  %track start NAME")
                first: nbtrack.Run = latest[0]
                return first
            return api.get_run(ref)
        except RunNotFound as exc:
            raise UsageError(f"{exc}; see  %track list  for run numbers and names") from None

    @cell_magic("track")  # type: ignore[arg-type]  # IPython's decorator is typed for functions
    def track_cell(self, line: str, cell: str) -> Any:
        first, _, rest = line.strip().partition(" ")
        if first == "sweep":  # %%track sweep NAME --trials 20 lr=loguniform(1e-4,1e-1) ...
            return self._sweep_cell(rest, cell)
        args = parse_line(self.cell_parser, line)
        run = self._start(args)
        chart = None
        if not args.no_plot:
            chart = self._live_chart(run, args.plot)
        try:
            result = self._run_body(cell)
        except KeyboardInterrupt:
            run.finish("interrupted")
            raise
        except BaseException:
            run.finish("failed")
            raise
        finally:
            if chart is not None and hasattr(chart, "close_live"):
                chart.close_live()
        run.finish("finished")
        return result

    def _sweep_cell(self, line: str, cell: str) -> Any:
        """The cell as the objective of a sweep (see :mod:`nbtrack.sweeps.magic`)."""
        from nbtrack.sweeps.magic import sweep_cell

        try:
            return sweep_cell(line, cell, run_body=self._run_body,
                              namespace=self._shell().user_ns)
        except ValueError as exc:
            raise UsageError(str(exc)) from None

    def _live_chart(self, run: nbtrack.Run, plot: str | None) -> Any:
        try:
            from nbtrack import widgets

            keys = [k.strip() for k in plot.split(",") if k.strip()] if plot else None
            chart = widgets.live_chart(run, keys)
            display(chart)  # type: ignore[no-untyped-call]  # IPython's, untyped
            return chart
        except Exception as exc:  # noqa: BLE001 - the chart is a nicety, never a failure
            warnings.warn(f"nbtrack could not show a live chart: {exc}",
                          recorder.TrackingWarning, stacklevel=2)
            return None

    def _run_body(self, cell: str) -> Any:
        """Run the cell's code in the user namespace; return the last expression's value."""
        shell = self._shell()
        code = shell.transform_cell(cell)  # type: ignore[no-untyped-call]  # IPython's, untyped
        tree = ast.parse(code, "<%%track cell>")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        ns = shell.user_ns
        exec(compile(tree, "<%%track cell>", "exec"), ns)  # noqa: S102 - the user's own cell
        if last is not None:
            return eval(compile(last, "<%%track cell>", "eval"), ns)  # noqa: S307
        return None


TrackMagics.track.__doc__ = _help_text()


def tolerate_wandb_magic(shell: InteractiveShell | None, replace: bool = False) -> None:
    """Make ``%wandb`` (W&B's magic, which shows a run's page) a no-op on ``shell`` when no
    ``%wandb`` magic exists (or, with ``replace``, in place of W&B's own: importing
    ``nbtrack.wandb`` says the notebook records locally, where W&B's magic would ask for an
    API key), so notebooks written for W&B run under ``nbtrack.wandb``."""
    if shell is None or ("wandb" in shell.magics_manager.magics["line"] and not replace):
        return

    def wandb(line: str = "") -> None:
        """W&B's ``%wandb`` has no local meaning: nbtrack shows runs in the Runs sidebar."""

    shell.register_magic_function(wandb, "line", "wandb")  # type: ignore[arg-type]
