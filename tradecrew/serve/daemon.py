"""``tradecrew serve``: one long-running desk per home (lock), its jobs on a schedule,
optional HTTP endpoints, and a shutdown that finishes or abandons the current step safely.

SIGTERM or SIGINT stops new runs at once, waits up to ``shutdown_seconds`` for the running
step to end, and exits 0. A step still running then is abandoned: every ledger write is one
transaction, so what it did not commit is rolled back, never half-written.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tradecrew.serve.http import HealthServer
from tradecrew.serve.jobs import Jobs
from tradecrew.serve.lock import HomeLock
from tradecrew.serve.metrics import DeskMetrics
from tradecrew.serve.ready import reasons
from tradecrew.serve.scheduler import build, steps
from tradecrew.serve.streams import close_streams, open_streams

if TYPE_CHECKING:
    from tradecrew.desk import Desk


@dataclass(frozen=True)
class Options:
    watchlist: list[str]
    http: tuple[str, int] | None = None
    once: bool = False


class Daemon:
    def __init__(
        self,
        desk: Desk,
        lock: HomeLock,
        options: Options,
        log: Any,
        stop: threading.Event | None = None,
    ) -> None:
        self.desk = desk
        self.lock = lock
        self.options = options
        self.log = log
        self.metrics = DeskMetrics()
        self.jobs = Jobs(desk, self.metrics, log, options.watchlist)
        self.http: HealthServer | None = None
        self.stop = stop or stop_on_signals()

    def open_http(self) -> int | None:
        """Bind before anything is scheduled, so a busy port fails the start at once."""
        if self.options.http is None:
            return None
        host, port = self.options.http
        self.http = HealthServer(
            host, port, self.metrics.render, lambda: reasons(self.jobs), self.desk.settings.serve
        ).start()
        return self.http.port

    def run_once(self) -> bool:
        """Every job once, in order; True when all succeeded."""
        ok = True
        for job in steps(self.jobs, self.desk.settings.serve).values():
            if self.stop.is_set():
                self.jobs.stopping.set()
            ok = bool(job()) and ok  # type: ignore[operator]
        return ok

    def run(self) -> int:
        scheduler = build(self.jobs, self.desk.settings.serve)
        scheduler.start()
        streams = open_streams(self.desk, self.jobs.quotes, self.options.watchlist, self.log)
        self.log.info(
            "serve_started",
            pid=os.getpid(),
            home=str(self.desk.settings.home),
            watchlist=self.options.watchlist,
            http_port=self.http.port if self.http else None,
            jobs=[j.id for j in scheduler.get_jobs()],
        )
        while not self.stop.wait(0.5):
            pass
        self.jobs.stopping.set()
        scheduler.shutdown(wait=False)
        close_streams(streams)
        left = self.jobs.wait_idle(self.desk.settings.serve.shutdown_seconds)
        if self.http is not None:
            self.http.close()
        if left:
            # Abandoned mid-step: uncommitted ledger work rolls back; nothing to flush.
            self.log.warning("serve_stopped", abandoned=left)
            logging.shutdown()
            self.lock.release()
            os._exit(0)
        self.log.info("serve_stopped", abandoned=[])
        return 0


def stop_on_signals() -> threading.Event:
    """An event SIGTERM and SIGINT set instead of ending the process (main thread only):
    installed before the desk opens, so a signal at any moment ends in a clean exit 0."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@contextmanager
def signals_stop() -> Iterator[threading.Event]:
    """``stop_on_signals`` for the span of a block; the previous handlers come back after."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop_on_signals()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
