"""Generated runs for tests, benchmarks and trying the filter language on a full workspace.

``generate_runs(db, n)`` writes ``n`` runs with a spread of names, statuses, tags, params
(numbers, strings, booleans, nulls, dotted and spaced names) and metrics, and returns what it
wrote as plain dicts, so a test can compute the expected answer of a filter in Python.
"""

from __future__ import annotations

import json
import math
from typing import Any

from nbtrack.store import writes
from nbtrack.store.access import Connection, atomic

LRS = (0.1, 0.03, 0.01, 0.003, 0.001)
STATUSES = ("finished", "finished", "failed", "interrupted", "running", "stale")
TAGS = ("cnn", "rnn", "baseline", "sweep")
NOTEBOOKS = ("train.ipynb", "nb/sweep.ipynb", None)


def run_spec(i: int, start: float) -> dict[str, Any]:
    """What the ``i``-th generated run holds (deterministic)."""
    status = STATUSES[i % len(STATUSES)]
    tags = [t for k, t in enumerate(TAGS) if (i >> k) & 1]
    params: dict[str, Any] = {
        "lr": LRS[i % len(LRS)],
        "epochs": i % 7 + 1,
        "opt": ("adam", "sgd", "adamw")[i % 3],
        "model.depth": i % 4,
        "batch size": 32 * (1 + i % 3),
        "augment": i % 3 == 0,
    }
    if i % 10 == 0:
        params["dropout"] = None
    if i % 25 == 0:
        params["clip"] = math.inf
    if i % 4 == 1:
        params["arch"] = f"resnet{18 + i % 3}"
    loss = [round(2.0 / (k + 1 + i % 9) + (i % 5) * 0.05, 6) for k in range(4)]
    acc = [round(min(0.99, 0.5 + 0.1 * k + (i % 11) * 0.01), 6) for k in range(4)]
    if i % 13 == 0:
        loss[2] = math.nan  # a diverged step: stored as NULL, min/max skip it
    summary: dict[str, Any] = {}
    if i % 17 == 0:
        summary["acc"] = 0.995  # an explicit summary value overrides the last one
    if i % 19 == 0:
        summary["note"] = "best"  # a text summary
    return {
        "i": i,
        "name": ("baseline", f"wide-{i}", f"cnn-{i}", f"sweep {i}")[i % 4],
        "status": status,
        "notebook": NOTEBOOKS[i % len(NOTEBOOKS)],
        "tags": tags,
        "notes": "keep" if i % 8 == 0 else "",
        "started": start - i * 3600.0,
        "params": params,
        "metrics": {"loss": loss, "acc": acc} if i % 11 != 5 else {},
        "summary": summary,
    }


def generate_runs(db: Connection, n: int, *, start: float) -> list[dict[str, Any]]:
    """Write ``n`` runs (run ``i`` started ``i`` hours before ``start``) in one transaction;
    return their specs with ``number`` and ``id`` filled in. ``stale`` runs read as crashed
    (old heartbeat).

    Fast enough for tens of thousands of runs: the run rows go in with one ``executemany``,
    params, points and summary values as one :class:`~nbtrack.store.writes.Batch`.
    """
    specs = [run_spec(i, start) for i in range(n)]
    with atomic(db):
        first = db.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM runs").fetchone()[0]
        rows = []
        batch = writes.Batch()
        for number, spec in enumerate(specs, start=first):
            spec.update(number=number, id=f"r{spec['i']:06d}")
            stale = spec["status"] == "stale"
            running = spec["status"] in ("running", "stale")
            rows.append((
                number, spec["id"], spec["name"], "running" if running else spec["status"],
                spec["notebook"], spec["started"],
                None if running else spec["started"] + 60.0,
                spec["started"] if stale else (start if running else None),
                json.dumps(spec["tags"]), spec["notes"],
            ))
            batch.params.append((number, spec["params"]))
            metrics = spec["metrics"]
            if metrics:
                keys = tuple(metrics)
                for step, values in enumerate(zip(*metrics.values())):
                    batch.points.append((number, step, spec["started"] + step, None, keys,
                                         values))
            for key, value in spec["summary"].items():
                batch.summary_overrides.append((number, key, value))
        db.executemany(
            "INSERT INTO runs (number, id, name, status, notebook, session, host, pid, started,"
            " ended, heartbeat, tags, notes)"
            " VALUES (?, ?, ?, ?, ?, 'gen', 'gen', 0, ?, ?, ?, ?, ?)",
            rows,
        )
        writes.write_batch(db, batch)
    return specs
