"""Send runs to an MLflow tracking server, incrementally (``nbtrack sync``).

Per run, in this order: find or create its MLflow run (tag ``nbtrack.run_id``); new params;
every metric point after the last step the server has of each key (``system/`` metrics
included), in log-batch sized requests; its files (cells in execution order, environment,
params in full, a notebook of the executed cells), media, the artifact versions it produced
and the model versions it registered (as MLflow registered models, with their aliases); and
last its name, tags, notes and status (so a run reads finished there only once everything
else arrived). The cursor (:mod:`nbtrack.sync.cursor`) is written after each accepted request.

The store is only read here, in short read blocks, and written in short transactions of the
cursor tables: a live run's ``log()`` never waits on a sync.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbtrack.model import RunRecord
from nbtrack.store import access, artifacts, blobs, queries
from nbtrack.store import registry as registry_store
from nbtrack.store.access import Connection
from nbtrack.sync import cursor as cursors
from nbtrack.sync import files as run_files
from nbtrack.sync.client import Server, SyncError
from nbtrack.sync.limits import (
    MAX_PARAM_VAL_LENGTH,
    MAX_TAG_VAL_LENGTH,
    Change,
    Names,
    Point,
    clean_name,
    metric_batches,
    pair_batches,
    param_text,
    shorten,
)
from nbtrack.sync.progress import Progress, Silent

#: nbtrack run statuses -> MLflow run statuses.
STATUSES = {"running": "RUNNING", "finished": "FINISHED", "failed": "FAILED",
            "crashed": "FAILED", "interrupted": "KILLED", "pruned": "KILLED"}

#: The tag holding nbtrack's run id on the MLflow run.
RUN_ID_TAG = "nbtrack.run_id"

_SAFE_ID = re.compile(r"^[\w\-]+$")


@dataclass
class Outcome:
    """What syncing one run did (or, with ``dry_run``, would do)."""

    number: int
    name: str
    action: str  # created, updated, unchanged (dry run: would create, would update)
    remote_id: str | None = None
    points: int = 0
    params: int = 0
    files: int = 0
    models: int = 0

    def record(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Local:
    """One run as the store has it now (read in one block)."""

    record: RunRecord
    params: dict[str, Any]
    tops: dict[str, int]  # metric key -> last step stored
    files: dict[str, bytes]
    media: list[queries.MediaRecordRow]
    produced: list[artifacts.VersionRow]
    models: list[tuple[str, registry_store.VersionRow, artifacts.VersionRow, dict[str, str]]]
    aliases: list[tuple[str, str, int]]  # (model, alias, model version row id)

    def head(self) -> dict[str, Any]:
        r = self.record
        return {"name": r["name"], "status": r["status"], "ended": r["ended"],
                "tags": r["tags"], "notes": r["notes"], "notebook": r["notebook"]}


def read_local(db: Connection, number: int) -> Local:
    """Everything of run ``number`` a sync may send, from one consistent read."""
    records = queries.run_records(db, [number])
    if not records:
        raise queries.RunNotFound(f"no run number {number}")
    record = records[0]
    tops = dict(db.execute(
        "SELECT k.key, MAX(c.step_max) FROM metric_chunks AS c JOIN metric_keys AS k"
        " ON k.id = c.key WHERE c.run = ? GROUP BY k.key", (number,)).fetchall())
    params = record["params"]
    registered = {}
    for mv in db.execute(
            "SELECT v.id, v.model, v.version, v.artifact_version, v.run, v.description,"
            " v.created, m.name FROM model_versions v JOIN registered_models m"
            " ON m.id = v.model JOIN artifact_versions av ON av.id = v.artifact_version"
            " WHERE COALESCE(v.run, av.run) = ? ORDER BY m.name, v.version", (number,)):
        row = registry_store.VersionRow(*mv[:7])
        registered[row.artifact_version] = (mv[7], row)
    tags = registry_store.version_tags(db, [r.id for _, r in registered.values()])
    models = [(name, row, artifacts.version(db, av), tags[row.id])
              for av, (name, row) in registered.items()]
    produced = [artifacts.version(db, e.version) for e in artifacts.edges_of_run(db, number)
                if e.direction == "out" and e.version not in registered]
    aliases = [(r[0], r[1], int(r[2])) for r in db.execute(
        "SELECT m.name, a.alias, a.version FROM model_aliases a JOIN registered_models m"
        " ON m.id = a.model JOIN model_versions v ON v.id = a.version"
        " JOIN artifact_versions av ON av.id = v.artifact_version"
        " WHERE COALESCE(v.run, av.run) = ? ORDER BY m.name, a.alias", (number,))]
    return Local(record, params, tops, run_files.run_files(db, number, params),
                 queries.media_rows(db, number), produced, models, aliases)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=repr).encode()).hexdigest()


@dataclass
class Pusher:
    """Syncs runs of the store ``db`` to ``server`` into experiment ``experiment_id``."""

    server: Server
    db: Path
    experiment_id: str | None
    progress: Progress = field(default_factory=Silent)
    dry_run: bool = False
    changes: list[Change] = field(default_factory=list)

    @property
    def store_dir(self) -> Path:
        return self.db.parent

    def push(self, number: int) -> Outcome:
        """Bring the server's copy of run ``number`` up to date."""
        with access.reading(self.db) as conn:
            local = read_local(conn, number)
            cursor = cursors.load(conn, self.server.url, number)
        rec = local.record
        out = Outcome(number, rec["name"], "unchanged", cursor.remote_id)
        if self.dry_run:
            return self._plan(local, cursor, out)
        if cursor.remote_id is None:
            self._create(local, cursor)
            out.action, out.remote_id = "created", cursor.remote_id
        elif cursor.pending:
            self._reconcile(cursor)
        run = f"#{number} {rec['name']}"
        out.params = self._params(run, local, cursor)
        out.points = self._metrics(run, local, cursor)
        out.files = self._files(local, cursor) + self._media(local, cursor)
        out.files += self._artifacts(local, cursor)
        out.models = self._models(local, cursor)
        head_sent = self._head(run, local, cursor)
        if out.action == "unchanged" and (out.params or out.points or out.files or out.models
                                          or head_sent):
            out.action = "updated"
        return out

    # -- the run itself -----------------------------------------------------------------------

    def _create(self, local: Local, cursor: cursors.RunCursor) -> None:
        """Find the MLflow run made for this run by a sync that was stopped before it could
        record it, or create one."""
        rec = local.record
        client, exp = self.server.client, self.experiment_id
        remote = None
        if _SAFE_ID.match(rec["id"]):
            found = self.server.call(
                "a search for the run", client.search_runs, [exp],
                filter_string=f"tags.`{RUN_ID_TAG}` = '{rec['id']}'", max_results=1)
            remote = found[0].info.run_id if found else None
        if remote is None:
            created = self.server.call(
                f"creating run #{rec['number']}", client.create_run, exp,
                start_time=int(rec["started"] * 1000), run_name=rec["name"],
                tags={RUN_ID_TAG: rec["id"], "nbtrack.number": str(rec["number"])})
            remote = created.info.run_id
        cursor.remote_id, cursor.experiment_id = remote, exp
        with access.writing(self.db) as conn:
            cursors.record_run(conn, cursor)

    def _reconcile(self, cursor: cursors.RunCursor) -> None:
        """The last sync was stopped while points were on their way: ask the server how far
        each key got (points of a key are sent in step order, so its last step says it)."""
        steps: dict[str, tuple[str, int | None]] = {}
        for key, (remote, _) in cursor.metrics.items():
            history = self.server.call(f"reading metric {remote!r}",
                                       self.server.client.get_metric_history,
                                       cursor.remote_id, remote)
            steps[key] = (remote, max((m.step for m in history), default=None))
        with access.writing(self.db) as conn:
            cursors.record_metrics(conn, cursor, steps)
            cursors.set_pending(conn, cursor, False)

    # -- params ---------------------------------------------------------------------------

    def _param_plan(self, run: str, local: Local,
                    cursor: cursors.RunCursor) -> list[tuple[str, str, str]]:
        names = Names(run, "param", {k: r for k, (r, _) in cursor.params.items()})
        new: list[tuple[str, str, str]] = []
        for key, value in sorted(local.params.items()):
            text = param_text(value)
            sent = shorten(text, MAX_PARAM_VAL_LENGTH)
            if key in cursor.params:
                remote, had = cursor.params[key]
                if had != sent:
                    self.changes.append(Change(
                        run, "immutable", key,
                        f"changed here to {_brief(text)} after it was synced as {_brief(had)};"
                        " MLflow params cannot change, the server keeps the old value"))
                continue
            if sent != text:
                self.changes.append(Change(
                    run, "value", key, f"{len(text):,} characters shortened to"
                    f" {MAX_PARAM_VAL_LENGTH:,} (MLflow's limit); the full value is in"
                    " nbtrack/params.json"))
            new.append((key, names(key), sent))
        self.changes.extend(names.changes)
        return new

    def _params(self, run: str, local: Local, cursor: cursors.RunCursor) -> int:
        from mlflow.entities import Param

        new = self._param_plan(run, local, cursor)
        by_remote = {r: (k, r, v) for k, r, v in new}
        for batch in pair_batches((r, v) for _, r, v in new):
            self.server.call("a batch of params", self.server.client.log_batch,
                             cursor.remote_id, params=[Param(k, v) for k, v in batch])
            with access.writing(self.db) as conn:
                cursors.record_params(conn, cursor, [by_remote[k] for k, _ in batch])
        return len(new)

    # -- metric points --------------------------------------------------------------------

    def _due(self, local: Local, cursor: cursors.RunCursor) -> list[str]:
        """Keys with points the server does not have yet."""
        out = []
        for key, top in sorted(local.tops.items()):
            sent = cursor.metrics.get(key, ("", None))[1]
            if sent is None or top > sent:
                out.append(key)
        return out

    def _metrics(self, run: str, local: Local, cursor: cursors.RunCursor) -> int:
        from mlflow.entities import Metric

        due = self._due(local, cursor)
        if not due:
            return 0
        names = Names(run, "metric", {k: r for k, (r, _) in cursor.metrics.items()})
        fresh = {k: (names(k), None) for k in due if k not in cursor.metrics}
        self.changes.extend(names.changes)
        with access.writing(self.db) as conn:
            cursors.record_metrics(conn, cursor, fresh)
            cursors.set_pending(conn, cursor, True)
        remote_of = {names(k): k for k in due}
        sent = 0
        for batch in metric_batches(self._points(local.record["number"], due, cursor, names)):
            self.server.call("a batch of metric points", self.server.client.log_batch,
                             cursor.remote_id, metrics=[Metric(*p) for p in batch])
            last: dict[str, tuple[str, int | None]] = {}
            for remote, _, _, step in batch:
                last[remote_of[remote]] = (remote, step)
            with access.writing(self.db) as conn:
                cursors.record_metrics(conn, cursor, last)
            sent += len(batch)
            self.progress.points(len(batch))
        with access.writing(self.db) as conn:
            cursors.set_pending(conn, cursor, False)
        return sent

    def _points(self, number: int, keys: list[str], cursor: cursors.RunCursor,
                names: Names) -> Iterator[Point]:
        """Each key's points after the last step the server has, in step order."""
        for key in keys:
            after = cursor.metrics.get(key, ("", None))[1]
            with access.reading(self.db) as conn:
                arrays = queries.metric_arrays(conn, number, key, after_step=after)
            remote = names(key)
            for step, value, when in zip(arrays.steps, arrays.values, arrays.times):
                yield (remote, value, int(when * 1000), step)

    # -- files ----------------------------------------------------------------------------

    def _upload(self, cursor: cursors.RunCursor, files: dict[str, bytes], folder: str,
                what: str) -> None:
        """Write ``files`` ({relative path: bytes}) under ``folder`` of the run's artifacts."""
        with tempfile.TemporaryDirectory(prefix="nbtrack-sync-") as tmp:
            root = Path(tmp)
            for rel, data in files.items():
                target = root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            self.server.call(f"uploading {what}", self.server.client.log_artifacts,
                             cursor.remote_id, str(root), folder)

    def _files(self, local: Local, cursor: cursors.RunCursor) -> int:
        todo = {name: data for name, data in local.files.items()
                if cursor.items.get(("file", name)) != run_files.digest(data)}
        if not todo:
            return 0
        self._upload(cursor, todo, run_files.FOLDER, "the run's cells and environment")
        with access.writing(self.db) as conn:
            cursors.record_items(conn, cursor, [("file", n, run_files.digest(d))
                                                for n, d in todo.items()])
        return len(todo)

    def _media(self, local: Local, cursor: cursors.RunCursor) -> int:
        todo: dict[str, bytes] = {}
        done: list[tuple[str, str, str]] = []
        for key, step, idx, _kind, blob, _thumb, meta, _time, _cell in local.media:
            name = f"{key}/{step}/{idx}"
            digest = blob or _digest(meta)
            if cursor.items.get(("media", name)) == digest:
                continue
            fmt = str(json.loads(meta).get("format") or "json") if blob else "json"
            data = blobs.read(self.store_dir, blob) if blob else meta.encode()
            todo[f"{clean_name(key)}/{step}-{idx}.{clean_name(fmt)}"] = data
            done.append(("media", name, digest))
        if not todo:
            return 0
        self._upload(cursor, todo, "media", "media")
        with access.writing(self.db) as conn:
            cursors.record_items(conn, cursor, done)
        return len(todo)

    def _version_files(self, version: artifacts.VersionRow) -> dict[str, bytes]:
        with access.reading(self.db) as conn:
            manifest = artifacts.files(conn, version.id)
        return {entry.path: blobs.read(self.store_dir, entry.blob) for entry in manifest}

    def _artifacts(self, local: Local, cursor: cursors.RunCursor) -> int:
        count = 0
        for version in local.produced:
            name = f"{version.name}:v{version.number}"
            if cursor.items.get(("artifact", name)) == version.digest:
                continue
            folder = f"artifacts/{clean_name(version.name)}/v{version.number}"
            self._upload(cursor, self._version_files(version), folder, f"artifact {name}")
            with access.writing(self.db) as conn:
                cursors.record_items(conn, cursor, [("artifact", name, version.digest)])
            count += 1
        return count

    # -- registered models ----------------------------------------------------------------

    def _models(self, local: Local, cursor: cursors.RunCursor) -> int:
        count = 0
        remote_versions: dict[int, tuple[str, str]] = {}
        for model, row, version, tags in local.models:
            key = str(row.id)
            known = cursor.items.get(("model", key))
            if known is not None:
                remote_versions[row.id] = (model, known)
                continue
            folder = f"models/{clean_name(model)}/v{row.version}"
            self._upload(cursor, self._version_files(version), folder,
                         f"model {model} v{row.version}")
            number = self._model_version(cursor, model, row, folder, tags)
            with access.writing(self.db) as conn:
                cursors.record_items(conn, cursor, [("model", key, number)])
            remote_versions[row.id] = (model, number)
            count += 1
        for model, alias, version_id in local.aliases:
            target = remote_versions.get(version_id)
            if target is None or cursor.items.get(("alias", f"{model}:{alias}")) == target[1]:
                continue
            self.server.call(f"setting alias {alias!r} of model {model!r}",
                             self.server.client.set_registered_model_alias,
                             model, alias, target[1])
            with access.writing(self.db) as conn:
                cursors.record_items(conn, cursor, [("alias", f"{model}:{alias}", target[1])])
        return count

    def _model_version(self, cursor: cursors.RunCursor, model: str,
                       row: registry_store.VersionRow, folder: str,
                       tags: dict[str, str]) -> str:
        """The MLflow version of local model version ``row``: found (a sync stopped after
        making it) or created, with the registered model made when missing."""
        client = self.server.client
        marker = str(row.id)
        try:
            self.server.call(f"creating registered model {model!r}",
                             client.create_registered_model, model)
        except SyncError as exc:
            if self.server.find_error(exc) != "RESOURCE_ALREADY_EXISTS":
                raise
        existing = self.server.call(
            f"reading versions of model {model!r}", client.search_model_versions,
            f"name = '{_quote(model)}' and run_id = '{cursor.remote_id}'")
        for mv in existing:
            if (mv.tags or {}).get("nbtrack.model_version") == marker:
                return str(mv.version)
        run = self.server.call("reading the run", client.get_run, cursor.remote_id)
        created = self.server.call(
            f"registering model {model!r} v{row.version}", client.create_model_version,
            model, f"{run.info.artifact_uri}/{folder}", run_id=cursor.remote_id,
            tags={**tags, "nbtrack.model_version": marker, "nbtrack.version": str(row.version)},
            description=row.description or None)
        return str(created.version)

    # -- name, tags, notes, status --------------------------------------------------------

    def _tags(self, run: str, local: Local) -> dict[str, str]:
        rec = local.record
        names = Names(run, "tag")
        tags: dict[str, str] = {}
        for label in rec["tags"]:
            key, _, value = label.partition("=")
            tags[names(key)] = shorten(value, MAX_TAG_VAL_LENGTH)
            if len(value) > MAX_TAG_VAL_LENGTH:
                self.changes.append(Change(run, "value", key, f"{len(value):,} characters"
                                           f" shortened to {MAX_TAG_VAL_LENGTH:,}"))
        self.changes.extend(names.changes)
        tags[RUN_ID_TAG] = rec["id"]
        tags["nbtrack.number"] = str(rec["number"])
        if rec["notes"]:
            tags["mlflow.note.content"] = shorten(rec["notes"], MAX_TAG_VAL_LENGTH)
        if rec["notebook"]:
            tags["mlflow.source.name"] = rec["notebook"]
            tags["mlflow.source.type"] = "NOTEBOOK"
        if rec["host"]:
            tags["nbtrack.host"] = rec["host"]
        return tags

    def _head(self, run: str, local: Local, cursor: cursors.RunCursor) -> bool:
        from mlflow.entities import RunTag

        digest = _digest(local.head())
        if digest == cursor.head:
            return False
        rec, client = local.record, self.server.client
        tags = self._tags(run, local)
        for batch in pair_batches(sorted(tags.items())):
            self.server.call("the run's tags", client.log_batch, cursor.remote_id,
                             tags=[RunTag(k, v) for k, v in batch])
        for gone in sorted(set(cursor.tags) - set(tags)):
            self.server.call(f"deleting tag {gone!r}", client.delete_tag, cursor.remote_id, gone)
        status = STATUSES.get(rec["status"], "FINISHED")
        if status == "RUNNING":
            self.server.call("the run's name and status", client.update_run,
                             cursor.remote_id, status="RUNNING", name=rec["name"])
        else:
            ended = rec["ended"] or rec["heartbeat"] or rec["started"]
            self.server.call("the run's name", client.update_run, cursor.remote_id,
                             name=rec["name"])
            self.server.call("the run's status", client.set_terminated, cursor.remote_id,
                             status, int(ended * 1000))
        cursor.head, cursor.tags = digest, sorted(tags)
        with access.writing(self.db) as conn:
            cursors.record_run(conn, cursor)
        return True

    # -- dry run --------------------------------------------------------------------------

    def _plan(self, local: Local, cursor: cursors.RunCursor, out: Outcome) -> Outcome:
        run = f"#{out.number} {out.name}"
        out.params = len(self._param_plan(run, local, cursor))
        number = local.record["number"]
        with access.reading(self.db) as conn:
            for key in self._due(local, cursor):
                after = cursor.metrics.get(key, ("", None))[1]
                out.points += len(queries.metric_arrays(conn, number, key, after_step=after))
        out.files = sum(cursor.items.get(("file", n)) != run_files.digest(d)
                        for n, d in local.files.items())
        out.files += sum(("media", f"{r[0]}/{r[1]}/{r[2]}") not in cursor.items
                         for r in local.media)
        out.files += sum(("artifact", f"{v.name}:v{v.number}") not in cursor.items
                         for v in local.produced)
        out.models = sum(("model", str(r.id)) not in cursor.items for _, r, _, _ in local.models)
        changed = _digest(local.head()) != cursor.head
        if cursor.remote_id is None:
            out.action = "would create"
        elif out.params or out.points or out.files or out.models or changed:
            out.action = "would update"
        return out


def _brief(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _quote(text: str) -> str:
    return text.replace("'", "\\'")
