"""``python -m nbtrack``: the command line (see :mod:`nbtrack.cli`)."""

from __future__ import annotations

from nbtrack.cli import main

if __name__ == "__main__":
    main(prog_name="nbtrack")
