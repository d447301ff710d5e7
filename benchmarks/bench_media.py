"""Logging images: what the caller pays per ``log()`` and how many images per second reach disk.

Run: ``python benchmarks/bench_media.py`` (prints figures; asserts nothing). 1,000 RGB 128x128
images (random pixels: the worst case for PNG), logged one per call. The floor, measured in the
same run, is writing the same PNGs with PIL directly (encode + write a file each), the least any
tracker that stores PNG files must do.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

import nbtrack  # noqa: E402


def images(count: int, size: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(count)]


def floor(pixels: list[np.ndarray], folder: Path) -> float:
    """Seconds to encode and write every image as PNG with PIL (same compression level)."""
    t0 = time.perf_counter()
    for i, array in enumerate(pixels):
        out = io.BytesIO()
        PILImage.fromarray(array).save(out, format="PNG", compress_level=1)
        (folder / f"{i}.png").write_bytes(out.getvalue())
    return time.perf_counter() - t0


def tracked(pixels: list[np.ndarray]) -> tuple[list[float], float]:
    """Per-call seconds in the caller, and seconds from the first log() to all on disk."""
    run = nbtrack.init(name="bench-media", capture_env=False, **_no_system())
    calls = []
    t0 = time.perf_counter()
    for step, array in enumerate(pixels):
        c0 = time.perf_counter()
        run.log({"sample": nbtrack.Image(array)}, step=step)
        calls.append(time.perf_counter() - c0)
    run.finish()
    return calls, time.perf_counter() - t0


def _no_system() -> dict[str, bool]:
    import inspect

    return ({"system_metrics": False}
            if "system_metrics" in inspect.signature(nbtrack.init).parameters else {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--size", type=int, default=128)
    args = parser.parse_args()
    pixels = images(args.images, args.size)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NBTRACK_DIR"] = tmp
        folder = Path(tmp) / "floor"
        folder.mkdir()
        base = floor(pixels, folder)
        calls, total = tracked(pixels)
        us = 1e6
        print(f"{args.images:,} RGB {args.size}x{args.size} images, one per log() call:")
        print(f"  caller time per log(): median {statistics.median(calls) * us:.0f} us,"
              f" p99 {sorted(calls)[int(len(calls) * 0.99) - 1] * us:.0f} us")
        print(f"  end to end (first log() to finish(), all on disk): {total:.2f} s ="
              f" {args.images / total:,.0f} images/s")
        print(f"  floor (PIL encode + write each PNG): {base:.2f} s ="
              f" {args.images / base:,.0f} images/s")
        stored = sum(1 for _ in (Path(tmp) / ".nbtrack" / "blobs").rglob("*") if _.is_file())
        print(f"  blobs stored: {stored:,} (images + thumbnails larger than 128 px: none here)")


if __name__ == "__main__":
    main()
