"""The desk opened on first use, so the server answers ``initialize`` at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradecrew.desk import Desk


class LazyDesk:
    """Stands in for a Desk; the ledger, broker and reconciliation start at the first call."""

    def __init__(self, factory: Callable[[], Desk]) -> None:
        self._factory = factory
        self._desk: Desk | None = None
        self._lock = threading.Lock()

    def open_desk(self) -> Desk:
        if self._desk is None:
            with self._lock:
                if self._desk is None:
                    self._desk = self._factory()
        return self._desk

    def close(self) -> None:
        if self._desk is not None:
            self._desk.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.open_desk(), name)
