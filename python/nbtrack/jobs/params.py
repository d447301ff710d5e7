"""A batch's parameter sets: ``-p`` values, ``--grid`` products and ``--from`` files.

Every value a user types is parsed with the rules of ``%track start`` (a Python literal where
it parses as one, else the text; :mod:`nbtrack.assignments`).
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from nbtrack.assignments import parse_assignments, parse_value

#: The file suffixes ``--from`` reads.
ROW_FORMATS = (".csv", ".jsonl")


def parse_params(items: Iterable[str]) -> dict[str, Any]:
    """``-p lr=0.1 -p opt=adam`` -> ``{"lr": 0.1, "opt": "adam"}`` (``ValueError`` on a word
    without ``=``)."""
    try:
        return parse_assignments(items)
    except ValueError as exc:
        raise ValueError(f"-p {exc.args[0]}; for example  -p lr=0.01") from None


def split_values(raw: str) -> list[str]:
    """``"0.1,0.01"`` -> ``["0.1", "0.01"]``; commas inside brackets or quotes stay:
    ``"[1, 2],[3]"`` -> ``["[1, 2]", "[3]"]``."""
    parts: list[str] = []
    depth = 0
    quote = ""
    current: list[str] = []
    escaped = False
    for char in raw:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


def parse_grid(items: Iterable[str]) -> dict[str, list[Any]]:
    """``--grid lr=0.1,0.01 --grid batch=32,64`` -> ``{"lr": [0.1, 0.01], "batch": [32, 64]}``."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--grid expects name=value,value,..., got {item!r}; for example"
                             "  --grid lr=0.1,0.01")
        if name in grid:
            raise ValueError(f"--grid {name} is given twice; list its values once: "
                             f"--grid {name}=a,b,c")
        values = split_values(raw)
        if any(not v for v in values):
            raise ValueError(f"--grid {item!r} has an empty value")
        grid[name] = [parse_value(v) for v in values]
    return grid


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The cartesian product of ``grid``'s values, one dict per combination, the first name
    varying slowest (``{}`` gives one empty combination)."""
    names = list(grid)
    for name in names:
        values = grid[name]
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ValueError(f"grid {name!r} needs a non-empty list of values, not {values!r}")
    return [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """One parameter set per row of a ``.csv`` file (header = names; each value parsed as a
    literal; an empty cell leaves the param to the notebook) or a ``.jsonl`` file (one JSON
    object per line; blank lines skipped)."""
    file = Path(path).expanduser()
    if file.suffix.lower() not in ROW_FORMATS:
        raise ValueError(f"--from reads .csv or .jsonl files, not {file.name!r}")
    if not file.is_file():
        raise ValueError(f"--from: no file at {file}")
    rows: list[dict[str, Any]] = []
    if file.suffix.lower() == ".csv":
        with file.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames:
                raise ValueError(f"--from {file.name}: no header row")
            for line, row in enumerate(reader, start=2):
                if None in row:
                    raise ValueError(f"--from {file.name}, line {line}: more values than names")
                rows.append({name.strip(): parse_value(value) for name, value in row.items()
                             if name is not None and value not in (None, "")})
    else:
        with file.open(encoding="utf-8") as handle:
            for line, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    row = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"--from {file.name}, line {line}: {exc.msg}") from None
                if not isinstance(row, dict):
                    raise ValueError(f"--from {file.name}, line {line}: expected an object "
                                     '{"name": value, ...}')
                rows.append(row)
    if not rows:
        raise ValueError(f"--from {file.name}: no rows")
    return rows


def combinations(
    fixed: Mapping[str, Any] | None = None,
    grid: Mapping[str, Sequence[Any]] | None = None,
    rows: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Every run's params: each row (default: one empty row) times each grid combination,
    over the ``fixed`` params (a row or grid value wins over a fixed one)."""
    combos = expand_grid(grid or {})
    out = []
    for row in rows if rows else [{}]:
        for combo in combos:
            out.append({**(fixed or {}), **row, **combo})
    return out


__all__ = ["combinations", "expand_grid", "parse_grid", "parse_params", "read_rows",
           "split_values"]
