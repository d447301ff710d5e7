"""The scoring server's life: bind, serve, follow the alias, and shut down cleanly.

On SIGTERM or SIGINT (or :meth:`ScoringServer.stop` from another thread) the server stops
accepting connections, lets the requests being answered finish (up to ``drain_timeout``
seconds), closes the remaining connections, stops the alias poller and the prediction threads,
and :meth:`ScoringServer.run` returns.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from nbtrack.serving.app import Inflight, make_app
from nbtrack.serving.holder import Follower, ModelHolder

log = logging.getLogger("nbtrack.serving")


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_of(host: str, port: int) -> str:
    """``http://host:port`` (IPv6 literals in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class ScoringServer:
    """Serves ``holder``'s model on ``host:port`` (port 0: a free port, see :attr:`url`).

    Parameters
    ----------
    holder
        The loaded model (:meth:`ModelHolder.load` already called).
    workers
        Threads that parse, predict and serialize requests concurrently.
    poll
        With a number, follow the source: check for a new model every ``poll`` seconds.
    drain_timeout
        Seconds a shutdown waits for the requests being answered.
    """

    def __init__(self, holder: ModelHolder, *, host: str = "127.0.0.1", port: int = 5000,
                 workers: int = 4, poll: float | None = None,
                 drain_timeout: float = 30.0) -> None:
        self.holder = holder
        self.host = host
        self.port = port
        self.workers = workers
        self.poll = poll
        self.drain_timeout = drain_timeout
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()

    def run(self, *, handle_signals: bool = True,
            on_ready: Callable[[str], None] | None = None) -> None:
        """Serve until stopped (blocks); ``on_ready(url)`` is called once listening."""
        asyncio.run(self._serve(handle_signals, on_ready))

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the server listens (for callers that :meth:`run` it on a thread)."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        """Ask the server to shut down (thread-safe; returns at once)."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(stop.set)

    async def _serve(self, handle_signals: bool,
                     on_ready: Callable[[str], None] | None) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = stop = asyncio.Event()
        sockets = bind_sockets(self.port, self.host)  # an OSError here: nothing to undo
        executor = ThreadPoolExecutor(self.workers, thread_name_prefix="nbtrack-predict")
        inflight = Inflight()
        server = HTTPServer(make_app(self.holder, executor, inflight))
        server.add_sockets(sockets)
        self.url = url_of(self.host, sockets[0].getsockname()[1])
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._loop.add_signal_handler(sig, stop.set)
        follower: Follower | None = None
        if self.poll is not None:
            follower = self.holder.follow(self.poll)
        try:
            self._ready.set()
            if on_ready is not None:
                on_ready(self.url)
            await stop.wait()
            log.info("shutting down: finishing %d request(s) in flight", inflight.count)
            server.stop()  # no new connections
            inflight.draining = True
            try:
                await asyncio.wait_for(inflight.wait_idle(), self.drain_timeout)
            except asyncio.TimeoutError:
                log.warning("%d request(s) still running after %.0f s: closing anyway",
                            inflight.count, self.drain_timeout)
            await server.close_all_connections()
        finally:
            if handle_signals:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    self._loop.remove_signal_handler(sig)
            if follower is not None:
                follower.stop()
            executor.shutdown(wait=True)
            server.stop()
        log.info("stopped")
