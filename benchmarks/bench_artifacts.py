"""Logging a folder as an artifact: MB/s beside the floor of copying and hashing the same files.

Run: ``python benchmarks/bench_artifacts.py [--size 200MB|1GB]`` (prints figures; asserts
nothing). The folder holds mixed files (a few large random binaries, many small ones, some
text). The floor, measured in the same run on the same files, is ``cp -r`` of the folder plus
``sha256sum`` of every file (subprocesses): the least a tracker that keeps its own hashed copy
must do. Then the same folder is logged again unchanged (seconds, bytes added to the store).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

import nbtrack  # noqa: E402

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9}


def parse_size(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMG]?B?)", text.strip().upper())
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 200MB, 1GB)")
    return int(float(match.group(1)) * _UNITS[match.group(2) or "B"])


def make_folder(root: Path, total: int) -> tuple[int, int]:
    """Mixed files totalling about ``total`` bytes: 60% in 4 large binaries, 30% in 1 MB
    files, 10% in 10 KB text files. Returns (files, bytes)."""
    root.mkdir(parents=True)
    count = size = 0
    chunk = os.urandom(1 << 20)

    def write(path: Path, n: int) -> None:
        nonlocal count, size
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            left = n
            while left > 0:
                piece = chunk[: min(left, len(chunk))]
                # vary each MB so files do not dedupe with each other
                f.write(os.urandom(16) + piece[16:])
                left -= len(piece)
        count += 1
        size += n

    for i in range(4):
        write(root / "weights" / f"shard{i}.bin", int(total * 0.6) // 4)
    for i in range(max(1, int(total * 0.3) // (1 << 20))):
        write(root / "images" / f"{i // 100:03d}" / f"img{i:05d}.bin", 1 << 20)
    text = b"id,value,label\n" + b"".join(b"%d,%f,cat\n" % (i, i / 7) for i in range(600))
    for i in range(max(1, int(total * 0.1) // 10_000)):
        (root / "labels").mkdir(exist_ok=True)
        (root / "labels" / f"part{i:05d}.csv").write_bytes(text[:10_000])
        count += 1
        size += len(text[:10_000])
    return count, size


def drop_caches_hint() -> None:
    """Write dirty pages out first, so one phase does not pay for the previous one's writes."""
    subprocess.run(["sync"], check=False)


def floor(folder: Path, dest: Path) -> float:
    """Seconds for ``cp -r`` of the folder and ``sha256sum`` of every file in it."""
    files = [str(p) for p in folder.rglob("*") if p.is_file()]
    t0 = time.perf_counter()
    subprocess.run(["cp", "-r", str(folder), str(dest)], check=True)
    for i in range(0, len(files), 500):
        subprocess.run(["sha256sum", *files[i:i + 500]], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def store_bytes(store: Path) -> int:
    return sum(p.stat().st_size for p in (store / "blobs").rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("200MB"),
                        help="folder size (default 200MB; the issue's figure: 1GB)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nbtrack-bench-art-") as tmp:
        root = Path(tmp)
        os.environ["NBTRACK_DIR"] = str(root / "ws")
        (root / "ws").mkdir()
        folder = root / "data"
        files, size = make_folder(folder, args.size)
        mb = size / 1e6
        print(f"folder: {files} files, {mb:.0f} MB")
        drop_caches_hint()
        floor_s = floor(folder, root / "copy")
        shutil.rmtree(root / "copy")
        drop_caches_hint()
        run = nbtrack.init(name="bench-artifacts", capture_env=False, system_metrics=False)
        t0 = time.perf_counter()
        version = run.log_artifact(folder, name="bench", type="dataset")
        first = time.perf_counter() - t0
        store = root / "ws" / ".nbtrack"
        before = store_bytes(store)
        t0 = time.perf_counter()
        again = run.log_artifact(folder, name="bench", type="dataset")
        relog = time.perf_counter() - t0
        added = store_bytes(store) - before
        run.finish()
        assert again.version == version.version
        print(f"floor (cp -r + sha256sum): {floor_s:.2f} s, {mb / floor_s:.0f} MB/s")
        print(f"log_artifact:              {first:.2f} s, {mb / first:.0f} MB/s"
              f" ({first / floor_s:.2f}x the floor)")
        print(f"re-log unchanged:          {relog:.2f} s, {mb / relog:.0f} MB/s hashed,"
              f" {added} bytes added, same version {again.version}")


if __name__ == "__main__":
    main()
