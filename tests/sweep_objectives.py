"""Objectives importable by name, for sweeps run in worker processes (tests/test_sweeps.py)."""

from __future__ import annotations

import os
import time

import nbtrack


def sleepy(config: dict) -> float:
    """Sleep a little (so workers overlap), log the target with the worker's pid, return it."""
    time.sleep(float(os.environ.get("SWEEP_SLEEP", "0.05")))
    value = (config["x"] - 0.3) ** 2
    nbtrack.log({"val/loss": value, "pid": os.getpid()})
    return value


def quadratic(config: dict) -> float:
    """A value that only depends on ``x``."""
    return (config["x"] - 2.0) ** 2
