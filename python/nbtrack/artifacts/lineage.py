"""``nbtrack.lineage(ref)``: the runs and artifact versions upstream and downstream of one."""

from __future__ import annotations

from pathlib import Path

from nbtrack.model import Lineage, LineageEdge, LineageNode
from nbtrack.store import access, queries
from nbtrack.store import artifacts as _store

#: A node while walking: ("run", run number) or ("version", version row id).
_Key = tuple[str, int]


def _node(db: access.Connection, key: _Key) -> LineageNode:
    if key[0] == "run":
        row = db.execute("SELECT id, name FROM runs WHERE number = ?", (key[1],)).fetchone()
        run_id, name = (row[0], row[1]) if row else (None, None)
        return LineageNode(id=f"run:{run_id or key[1]}", kind="run", number=key[1],
                           run_id=run_id, name=name, version=None, type=None)
    v = _store.version(db, key[1])
    return LineageNode(id=f"artifact:{v.name}:v{v.number}", kind="artifact", number=None,
                       run_id=None, name=v.name, version=f"v{v.number}", type=v.type)


def _neighbours(db: access.Connection, key: _Key, upstream: bool) -> list[tuple[_Key, _store.Edge]]:
    """Upstream of a run: the versions it used; of a version: the runs that produced it.
    Downstream of a run: what it produced; of a version: the runs that used it."""
    want = "in" if upstream else "out"
    if key[0] == "run":
        return [(("version", e.version), e) for e in _store.edges_of_run(db, key[1])
                if e.direction == want]
    want = "out" if upstream else "in"
    return [(("run", e.run), e) for e in _store.edges_of_version(db, key[1])
            if e.direction == want]


def lineage(db_path: Path, ref: object) -> Lineage:
    """The graph around ``ref`` (a :class:`nbtrack.Run`, a run reference, or an artifact
    reference ``"name:v3"`` / ``"name:alias"``), as plain data."""
    from nbtrack.artifacts.names import parse_ref

    with access.reading(db_path) as db:
        number = getattr(ref, "number", None)
        start: _Key
        if isinstance(number, int):
            start = ("run", number)
        elif isinstance(ref, str) and ":" in ref and not ref.startswith("run:"):
            name, selector = parse_ref(ref)
            start = ("version", _store.resolve(db, name, selector).id)
        elif isinstance(ref, (str, int)):
            start = ("run", queries.resolve_run(db, str(ref).removeprefix("run:")))
        else:
            raise TypeError(f"lineage() takes a run or 'name:version', not {ref!r}")
        nodes: dict[_Key, LineageNode] = {start: _node(db, start)}
        edges: dict[tuple[int, int, str], LineageEdge] = {}
        sides: dict[bool, list[str]] = {True: [], False: []}
        for up in (True, False):
            seen = {start}
            frontier = [start]
            while frontier:
                nxt: list[_Key] = []
                for key in frontier:
                    for other, e in _neighbours(db, key, up):
                        if other not in nodes:
                            nodes[other] = _node(db, other)
                        run_node = nodes[("run", e.run)] if ("run", e.run) in nodes \
                            else _node(db, ("run", e.run))
                        art_node = nodes[("version", e.version)]
                        src, dst = ((run_node, art_node) if e.direction == "out"
                                    else (art_node, run_node))
                        edges[(e.run, e.version, e.direction)] = LineageEdge(
                            source=src["id"], target=dst["id"], direction=e.direction,
                            cell=e.cell, time=e.time)
                        if other not in seen:
                            seen.add(other)
                            sides[up].append(nodes[other]["id"])
                            nxt.append(other)
                frontier = nxt
        return Lineage(root=nodes[start]["id"], nodes=list(nodes.values()),
                       edges=sorted(edges.values(), key=lambda e: e["time"]),
                       upstream=sides[True], downstream=sides[False])
