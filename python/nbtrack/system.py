"""System metrics: a sampler thread that records the machine's and the process's load under
``system/`` for a live run.

Every ``interval`` seconds (the first reading one interval after the start) the sampler records
one point per key, at its own step (the sample number: 0, 1, 2...), so the user's steps are never
moved; each point's time is the wall time of the reading (x as wall time in charts).

Keys (the units are in the names):

- ``system/cpu_percent``: CPU use of this process and its children (100 = one core busy);
- ``system/cpu_system_percent``: CPU use of the whole machine (100 = every core busy);
- ``system/rss_bytes``: resident memory of this process and its children;
- ``system/memory_percent``: memory used on the machine;
- ``system/disk_read_bytes``, ``system/disk_write_bytes``, ``system/net_sent_bytes``,
  ``system/net_recv_bytes``: the machine's disk and network traffic since the run started
  (cumulative, as W&B's charts show them; a chart's slope is the rate);
- per NVIDIA GPU ``N`` when NVML is available (``pip install nbtrack[gpu]``, i.e.
  ``nvidia-ml-py``): ``system/gpuN/utilization_percent``, ``system/gpuN/memory_used_bytes``,
  ``system/gpuN/power_watts``, ``system/gpuN/temperature_c``. No GPU, no driver or no
  ``nvidia-ml-py``: no GPU keys, and no error.

The points go into the run's recorder queue like ``log()`` calls (and belong to no cell). The
sampler never raises into the user's code: a reading that fails once is dropped for the rest of
the run with one :class:`~nbtrack.recorder.TrackingWarning`. It stops when the run finishes and
at exit. It uses psutil (and pynvml for GPUs, imported in the sampler thread only).
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, Protocol

import psutil

from nbtrack.recorder import warn

if TYPE_CHECKING:  # pragma: no cover
    from nbtrack.run import Run

#: Seconds between two samples unless ``init(system_interval=...)`` or the environment says.
DEFAULT_INTERVAL = 10.0
#: The shortest interval accepted.
MIN_INTERVAL = 0.1
#: The environment variable holding the default interval.
INTERVAL_ENV = "NBTRACK_SYSTEM_INTERVAL"
#: Seconds between two scans for child processes (a scan reads every process of the machine,
#: a millisecond or more: too much to do every second).
CHILDREN_EVERY = 5.0
#: Seconds after the start (at most half an interval) when the sampler opens its readers.
OPEN_AFTER = 0.5


def sampling_interval(value: float | None = None, name: str = "system_interval") -> float:
    """The sampling interval in seconds: ``value``, else ``$NBTRACK_SYSTEM_INTERVAL``, else 10.

    Raises ``ValueError`` (saying ``name``, or the environment variable) for an interval that
    is not a number of at least 0.1 seconds.
    """
    source = name
    if value is None:
        raw = os.environ.get(INTERVAL_ENV, "").strip()
        if not raw:
            return DEFAULT_INTERVAL
        source = f"${INTERVAL_ENV}"
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"{source} must be a number of seconds, not {raw!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{source} must be a number of seconds, not {value!r}")
    if not value >= MIN_INTERVAL or value == float("inf"):
        raise ValueError(f"{source} must be at least {MIN_INTERVAL} seconds, not {value!r}")
    return float(value)


class Reader(Protocol):
    """One group of readings; built (and primed) in the sampler thread."""

    name: str

    def read(self) -> dict[str, float]: ...

    def close(self) -> None: ...


class Unavailable(Exception):
    """This machine has nothing to read for a group (no GPU, no disk counters): no keys."""


# -- readers ------------------------------------------------------------------------------------

class ProcessTree:
    """CPU % and RSS of this process and its children (children rescanned every few seconds)."""

    name = "process"

    def __init__(self) -> None:
        self._me = psutil.Process(os.getpid())
        self._procs: dict[int, psutil.Process] = {self._me.pid: self._me}
        self._cpu: dict[int, float] = {}
        self._scanned = -CHILDREN_EVERY
        self._clock = time.monotonic()
        self.read()

    def _rescan(self, now: float) -> None:
        self._scanned = now
        procs = {self._me.pid: self._me}
        for child in self._me.children(recursive=True):
            procs[child.pid] = self._procs.get(child.pid, child)
        self._procs = procs

    def read(self) -> dict[str, float]:
        now = time.monotonic()
        if now - self._scanned >= CHILDREN_EVERY:
            self._rescan(now)
        busy = 0.0
        rss = 0
        cpu: dict[int, float] = {}
        for pid, proc in list(self._procs.items()):
            try:
                with proc.oneshot():
                    times = proc.cpu_times()
                    rss += proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                if proc is self._me:
                    raise
                del self._procs[pid]
                continue
            total = times.user + times.system
            cpu[pid] = total
            # A child seen for the first time counts from now on.
            busy += total - self._cpu.get(pid, total)
        elapsed = now - self._clock
        self._cpu, self._clock = cpu, now
        percent = 100.0 * busy / elapsed if elapsed > 0 else 0.0
        return {"system/cpu_percent": max(percent, 0.0), "system/rss_bytes": float(rss)}

    def close(self) -> None:
        pass


class MachineCPU:
    """CPU % of the whole machine, from its own counters (``psutil.cpu_percent()`` keeps one
    module-wide baseline, which calling it here would take away from the user's own calls)."""

    name = "cpu"

    def __init__(self) -> None:
        self._last = self._busy_total()

    @staticmethod
    def _busy_total() -> tuple[float, float]:
        times = psutil.cpu_times()
        fields = times._asdict()
        # guest time is counted in user time already (Linux).
        total = sum(v for k, v in fields.items() if k not in ("guest", "guest_nice"))
        idle = fields.get("idle", 0.0) + fields.get("iowait", 0.0)
        return total - idle, total

    def read(self) -> dict[str, float]:
        busy, total = self._busy_total()
        d_busy, d_total = busy - self._last[0], total - self._last[1]
        self._last = (busy, total)
        percent = 100.0 * d_busy / d_total if d_total > 0 else 0.0
        return {"system/cpu_system_percent": min(max(percent, 0.0), 100.0)}

    def close(self) -> None:
        pass


class Memory:
    """The machine's memory used, in %."""

    name = "memory"

    def __init__(self) -> None:
        self.read()

    def read(self) -> dict[str, float]:
        return {"system/memory_percent": float(psutil.virtual_memory().percent)}

    def close(self) -> None:
        pass


class DiskIO:
    """Bytes the machine's disks read and wrote since the run started."""

    name = "disk"

    def __init__(self) -> None:
        first = psutil.disk_io_counters()
        if first is None:
            raise Unavailable("no disk counters")
        self._base = (first.read_bytes, first.write_bytes)

    def read(self) -> dict[str, float]:
        now = psutil.disk_io_counters()
        if now is None:
            return {}
        return {"system/disk_read_bytes": float(max(now.read_bytes - self._base[0], 0)),
                "system/disk_write_bytes": float(max(now.write_bytes - self._base[1], 0))}

    def close(self) -> None:
        pass


class NetIO:
    """Bytes the machine sent and received over its network interfaces since the run started."""

    name = "network"

    def __init__(self) -> None:
        first = psutil.net_io_counters()
        if first is None:
            raise Unavailable("no network counters")
        self._base = (first.bytes_sent, first.bytes_recv)

    def read(self) -> dict[str, float]:
        now = psutil.net_io_counters()
        if now is None:
            return {}
        return {"system/net_sent_bytes": float(max(now.bytes_sent - self._base[0], 0)),
                "system/net_recv_bytes": float(max(now.bytes_recv - self._base[1], 0))}

    def close(self) -> None:
        pass


class GPUs:
    """Per NVIDIA GPU: utilization %, memory used, power (W) and temperature (C), through NVML.

    A reading a device does not support (power on some boards) is left out for that device.
    """

    name = "gpu"

    def __init__(self) -> None:
        try:
            import pynvml
        except ImportError:
            raise Unavailable("nvidia-ml-py is not installed") from None
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as exc:  # no driver, no GPU
            raise Unavailable(f"NVML: {exc}") from None
        self._nvml: Any = pynvml
        try:
            count = pynvml.nvmlDeviceGetCount()
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except pynvml.NVMLError as exc:
            self.close()
            raise Unavailable(f"NVML: {exc}") from None
        if not self._handles:
            self.close()
            raise Unavailable("no GPU")
        self._unsupported: set[tuple[int, str]] = set()

    def _fields(self, handle: Any) -> dict[str, Any]:
        nvml = self._nvml
        return {
            "utilization_percent": lambda: nvml.nvmlDeviceGetUtilizationRates(handle).gpu,
            "memory_used_bytes": lambda: nvml.nvmlDeviceGetMemoryInfo(handle).used,
            "power_watts": lambda: nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0,  # mW
            "temperature_c": lambda: nvml.nvmlDeviceGetTemperature(
                handle, nvml.NVML_TEMPERATURE_GPU),
        }

    def read(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for index, handle in enumerate(self._handles):
            for field, get in self._fields(handle).items():
                if (index, field) in self._unsupported:
                    continue
                try:
                    out[f"system/gpu{index}/{field}"] = float(get())
                except self._nvml.NVMLError:
                    self._unsupported.add((index, field))
        return out

    def close(self) -> None:
        try:
            self._nvml.nvmlShutdown()
        except Exception:  # noqa: BLE001 - shutting down
            pass


#: The readers a sampler starts with, in the order their keys are recorded.
READERS: tuple[type[Reader], ...] = (ProcessTree, MachineCPU, Memory, DiskIO, NetIO, GPUs)


# -- the sampler --------------------------------------------------------------------------------

class SystemSampler:
    """A daemon thread recording system metrics for one live run every ``interval`` seconds.

    Parameters
    ----------
    run : the live run to record to.
    interval : seconds between two samples (see :func:`sampling_interval`).

    Examples
    --------
    >>> sampler = SystemSampler(run, 1.0)  # doctest: +SKIP
    >>> sampler.start(); ...; sampler.stop()  # doctest: +SKIP
    """

    def __init__(self, run: Run, interval: float) -> None:
        self.run = run
        self.interval = interval
        #: Samples recorded so far (the next sample's step).
        self.samples = 0
        #: CPU seconds the sampler thread has used (``time.thread_time()`` inside it), and of
        #: those, what opening the readers took (importing pynvml, probing NVML...).
        self.cpu_time = 0.0
        self.open_cpu_time = 0.0
        self._stop = threading.Event()
        self._warned: set[str] = set()
        self._thread = threading.Thread(
            target=self._loop, name=f"nbtrack-system-{run.number}", daemon=True)

    @property
    def alive(self) -> bool:
        """True while the sampler thread runs."""
        return self._thread.is_alive()

    def start(self) -> None:
        """Start sampling (the first sample comes one interval from now)."""
        _live.add(self)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop sampling and wait (at most ``timeout`` seconds) for the thread to end."""
        self._stop.set()
        _live.discard(self)
        thread = self._thread
        if thread.ident is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self) -> None:
        readers: list[Reader] = []
        try:
            next_at = time.monotonic() + self.interval
            # Open (and prime) the readers a little later: the first sample then averages
            # over a shorter window, and a run that ends within it (tests, a quick script)
            # never pays for scanning processes or probing NVML.
            if self._stop.wait(min(self.interval / 2, OPEN_AFTER)):
                return
            readers = self._open()
            self.cpu_time = self.open_cpu_time = time.thread_time()
            while not self._stop.wait(max(next_at - time.monotonic(), 0.0)):
                now = time.monotonic()
                next_at = max(next_at + self.interval, now + self.interval / 2)
                self._sample(readers)
                self.cpu_time = time.thread_time()
                if not readers:
                    return
        except Exception as exc:  # noqa: BLE001 - the sampler never breaks the user's run
            self._warn("sampler", exc)
        finally:
            for reader in readers:
                try:
                    reader.close()
                except Exception:  # noqa: BLE001
                    pass
            self.cpu_time = time.thread_time()
            _live.discard(self)

    def _open(self) -> list[Reader]:
        readers: list[Reader] = []
        for make in READERS:
            if self._stop.is_set():
                break
            try:
                readers.append(make())
            except Unavailable:
                pass
            except Exception as exc:  # noqa: BLE001
                self._warn(make.name, exc)
        return readers

    def _sample(self, readers: list[Reader]) -> None:
        values: dict[str, float] = {}
        for reader in list(readers):
            try:
                values.update(reader.read())
            except Exception as exc:  # noqa: BLE001 - drop this reading, keep the others
                readers.remove(reader)
                self._warn(reader.name, exc)
        if values and not self._stop.is_set():
            self._record(values)

    def _record(self, values: dict[str, float]) -> None:
        """Queue one sample as a ``log()`` call would, at the sampler's own step."""
        run = self.run
        if not run.live:
            self._stop.set()
            return
        rec = run.recorder
        step = self.samples
        self.samples = step + 1
        rec.points.append((run.number, step, time.time(), None, tuple(values),
                           tuple(values.values())))
        if len(rec.points) >= rec.soon:
            rec.make_room()

    def _warn(self, what: str, exc: BaseException) -> None:
        if what in self._warned:
            return
        self._warned.add(what)
        warn(f"nbtrack stopped recording {what} system metrics of run {self.run.number}:"
             f" {exc!r}; the run goes on")


def start(run: Run, interval: float) -> SystemSampler:
    """Start a sampler for ``run``, stopped when the run finishes."""
    sampler = SystemSampler(run, interval)

    def stop(_run: Run) -> None:
        sampler.stop()
        _run.remove_on_finish(stop)

    run.on_finish(stop)
    sampler.start()
    return sampler


def running() -> list[SystemSampler]:
    """The samplers of this process that have not been stopped."""
    return list(_live)


_live: weakref.WeakSet[SystemSampler] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for sampler in list(_live):
        try:
            sampler.stop(timeout=1.0)
        except Exception:  # noqa: BLE001 - exiting
            pass


__all__ = [
    "DEFAULT_INTERVAL", "INTERVAL_ENV", "MIN_INTERVAL", "SystemSampler", "running",
    "sampling_interval", "start",
]
