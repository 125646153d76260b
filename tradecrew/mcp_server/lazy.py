"""The desk opened on first use, so the server answers ``initialize`` at once, and kept in
step with its broker while the server runs."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradecrew.desk import Desk

log = logging.getLogger(__name__)

RECONCILE_EVERY_SECONDS = 60.0


class LazyDesk:
    """Stands in for a Desk: the ledger, broker and first reconciliation start at the first
    call; after that the desk is reconciled again whenever a minute has passed."""

    def __init__(self, factory: Callable[[], Desk], *, every: float = RECONCILE_EVERY_SECONDS):
        self._factory = factory
        self._desk: Desk | None = None
        self._lock = threading.Lock()
        self._every = every
        self._reconciled = 0.0

    def open_desk(self) -> Desk:
        if self._desk is None:
            with self._lock:
                if self._desk is None:
                    self._desk = self._factory()
                    self._reconciled = time.monotonic()
        if time.monotonic() - self._reconciled > self._every and self._lock.acquire(False):
            from tradecrew.desk.reconcile import reconcile_safely, worth_telling

            try:
                self._reconciled = time.monotonic()
                # Never raises: a failure is logged (and makes the desk REDUCING), so the
                # call that happened to come due (a halt, say) still runs.
                report = reconcile_safely(self._desk)
                if worth_telling(report):
                    log.warning("reconcile: %s", report.message)
            finally:
                self._lock.release()
        return self._desk

    def close(self) -> None:
        if self._desk is not None:
            self._desk.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.open_desk(), name)
