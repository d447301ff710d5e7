"""The docs keep up with the code: every CLI command documented, the schema page exact."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from nbtrack.cli import main
from nbtrack.store import access

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
SCHEMA_DOC = ROOT / "docs" / "schema.md"


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help_an_example_and_a_readme_mention(name: str) -> None:
    command = main.commands[name]
    assert command.help and command.help.strip(), f"nbtrack {name} has no help"
    assert command.get_short_help_str().strip(), f"nbtrack {name} has no short help"
    body = command.help.split("Example:")
    assert len(body) == 2 and body[1].replace("\b", "").strip().startswith("nbtrack "), (
        f"nbtrack {name}'s docstring must end with an 'Example:' block of nbtrack commands")
    assert f"`nbtrack {name}" in README, f"README.md does not mention `nbtrack {name}`"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"nbtrack {name} {param.opts[0]} has no help"
    assert "--workspace" in {opt for p in command.params for opt in p.opts}, name


def test_the_group_has_help_with_an_example() -> None:
    assert main.help and "Example:" in main.help


def _documented() -> dict[str, tuple[list[tuple[str, str]], set[str]]]:
    """``{table: ([(column, type)], {index names})}`` as docs/schema.md describes them."""
    tables: dict[str, tuple[list[tuple[str, str]], set[str]]] = {}
    current: str | None = None
    for line in SCHEMA_DOC.read_text().splitlines():
        heading = re.match(r"## (\S+)$", line)
        if heading:
            current = heading.group(1)
            tables[current] = ([], set())
            continue
        if current is None:
            continue
        row = re.match(r"\| (\w+) \| ([A-Z]+|\(any\)) \|", line)
        if row:
            column_type = "" if row.group(2) == "(any)" else row.group(2)
            tables[current][0].append((row.group(1), column_type))
        if line.startswith("Indexes:"):
            tables[current][1].update(re.findall(r"`(\w+)`", line))
    return tables


def _actual(tmp_path: Path) -> dict[str, tuple[list[tuple[str, str]], set[str]]]:
    db = access.connect(tmp_path / "fresh.db")
    try:
        out: dict[str, tuple[list[tuple[str, str]], set[str]]] = {}
        for (table,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ):
            columns = [(r[1], r[2]) for r in db.execute(f'PRAGMA table_info("{table}")')]
            indexes = {
                r[0] for r in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                    " AND name NOT LIKE 'sqlite_autoindex_%'", (table,))
            }
            out[table] = (columns, indexes)
        return out
    finally:
        db.close()


def test_the_documented_schema_is_the_real_schema(tmp_path: Path) -> None:
    documented, actual = _documented(), _actual(tmp_path)
    assert sorted(documented) == sorted(actual), "docs/schema.md lists other tables"
    for table, (columns, indexes) in actual.items():
        doc_columns, doc_indexes = documented[table]
        expected_rows = "\n".join(f"| {c} | {t or '(any)'} | ... |" for c, t in columns)
        assert doc_columns == columns, (
            f"docs/schema.md, table {table}: the columns are now\n{expected_rows}")
        assert doc_indexes == indexes, (
            f"docs/schema.md, table {table}: the indexes are now {sorted(indexes)}")


def test_the_readme_points_at_the_schema_and_names_every_table(tmp_path: Path) -> None:
    section = README.split("## Store schema", 1)[1]
    assert "docs/schema.md" in section
    for table in _actual(tmp_path):
        assert f"`{table}`" in section, f"README's Store schema section misses {table}"
