"""SQLite write-ahead-log checkpoints off the request path.

Left to itself, SQLite checkpoints inside the commit that takes the log past 1,000 pages: that
commit stalls while pages are copied into the database file and synced, several milliseconds
every few dozen trades. The ledger and the paper venue turn automatic checkpoints off on their
connections and let a background thread do them when commits pause.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)

#: A checkpoint waits for this many seconds without a commit, so it never competes with a
#: trade for the disk...
QUIET_FOR = 0.5
#: ...unless the log has grown past this size under a steady flow of trades.
MAX_WAL_BYTES = 64 * 1024 * 1024
_POLL = 0.1


def no_autocheckpoint(dbapi_conn: Any) -> None:
    """For a new connection: leave checkpoints to the ``Checkpointer``."""
    dbapi_conn.execute("PRAGMA wal_autocheckpoint = 0")


class Checkpointer:
    """A daemon thread that checkpoints the SQLite file of ``engine`` once commits pause.

    Checkpoints are PASSIVE: they never wait for, or block, readers and writers. ``stop``
    ends the thread; closing the engine's last connection then checkpoints what is left.
    """

    def __init__(
        self, engine: Engine, quiet_for: float = QUIET_FOR, max_wal_bytes: int = MAX_WAL_BYTES
    ) -> None:
        self._engine = engine
        self._wal = Path(f"{engine.url.database}-wal")
        self._quiet_for = quiet_for
        self._max_wal_bytes = max_wal_bytes
        self._last_commit = time.monotonic()
        self._dirty = False
        event.listen(engine, "commit", self._committed)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _committed(self, _conn: Any) -> None:
        self._last_commit, self._dirty = time.monotonic(), True

    def _due(self) -> bool:
        if not self._dirty:
            return False
        if time.monotonic() - self._last_commit >= self._quiet_for:
            return True
        try:
            return self._wal.stat().st_size >= self._max_wal_bytes
        except OSError:
            return False

    def _run(self) -> None:
        while not self._stopping.wait(_POLL):
            if self._due():
                self._dirty = False
                self.checkpoint()

    def checkpoint(self) -> None:
        """One PASSIVE checkpoint now (outside any transaction)."""
        try:
            raw = self._engine.raw_connection()
        except Exception:  # the next commit makes it due again; a closed engine stops us
            log.debug("checkpoint skipped: no connection", exc_info=True)
            return
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]
        except Exception:
            log.debug("checkpoint skipped", exc_info=True)
        finally:
            raw.close()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        event.remove(self._engine, "commit", self._committed)
