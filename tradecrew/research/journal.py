"""An optuna journal file that syncs to disk once per trial instead of once per write.

Optuna's ``JournalFileBackend`` fsyncs every operation it appends (a trial makes about five:
created, each parameter, each reported value, finished), and on an ordinary disk the fsyncs
are most of a cheap trial's cost. ``TrialSyncedJournal`` writes every operation to the file
at once, under optuna's own lock (so other workers, this backend or optuna's, see it and
append in one global order), and fsyncs only the operations that close a trial or change a
study. The file is optuna's format: ``JournalFileBackend`` reads it, and workers of either
backend may share it.

What a crash can cost, honestly: a worker process that dies loses nothing written (the
kernel holds it; it was written before the call returned). A power cut or kernel crash may
lose what was written since the last fsync: at most the operations of trials still running
then (their parameters and intermediate values; a finished trial was synced with its result,
and fsync writes the whole file's pending data). Such a cut may also leave a torn last line;
opening the file again cuts it off (under the lock), as optuna's reader would otherwise
refuse every line after it.
"""

from __future__ import annotations

import json
import os
from typing import Any

from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock
from optuna.storages.journal._storage import JournalOperation
from optuna.trial import TrialState

__all__ = ["TrialSyncedJournal", "needs_sync"]

# Operations that only fill in a running trial: written at once, synced with its end.
_IN_TRIAL = frozenset(
    {
        JournalOperation.CREATE_TRIAL,
        JournalOperation.SET_TRIAL_PARAM,
        JournalOperation.SET_TRIAL_INTERMEDIATE_VALUE,
        JournalOperation.SET_TRIAL_USER_ATTR,
        JournalOperation.SET_TRIAL_SYSTEM_ATTR,
    }
)
_OPEN_STATES = (TrialState.RUNNING.value, TrialState.WAITING.value)


def needs_sync(log: dict[str, Any]) -> bool:
    """Whether ``log`` must reach the disk before the call returns: a trial's end (complete,
    pruned, failed) or anything about a study; a running trial's details need not."""
    op = log.get("op_code")
    if op in _IN_TRIAL:
        return False
    if op == JournalOperation.SET_TRIAL_STATE_VALUES:
        return log.get("state") not in _OPEN_STATES
    return True


class TrialSyncedJournal(JournalFileBackend):
    """``JournalFileBackend`` (its reader, its lock, its format) with one fsync per trial."""

    def __init__(self, file_path: str) -> None:
        super().__init__(file_path, JournalFileSymlinkLock(file_path))
        self._repair()

    def _repair(self) -> None:
        """Cut a torn last line (a write a power cut interrupted) so the file reads again."""
        self._lock.acquire()
        try:
            with open(self._file_path, "r+b") as f:
                size = f.seek(0, os.SEEK_END)
                if size == 0:
                    return
                f.seek(size - 1)
                if f.read(1) == b"\n":
                    return
                keep = _last_newline(f, size)
                f.truncate(keep)
                f.flush()
                os.fsync(f.fileno())
        finally:
            self._lock.release()

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        text = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs)
        sync = any(needs_sync(log) for log in logs)
        self._lock.acquire()
        try:
            with open(self._file_path, "ab") as f:
                f.write(text.encode("utf-8"))
                f.flush()
                if sync:
                    os.fsync(f.fileno())
        finally:
            self._lock.release()


def _last_newline(f: Any, size: int) -> int:
    """The offset just after the file's last newline (0 when it has none)."""
    step = 1 << 16
    end = size
    while end > 0:
        start = max(0, end - step)
        f.seek(start)
        cut = f.read(end - start).rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
        end = start
    return 0
