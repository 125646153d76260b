"""One ``tradecrew serve`` per home: an OS file lock the kernel drops when the process dies.

``fcntl.flock`` on ``<home>/serve.lock``: a crash or ``kill -9`` leaves no stale lock behind
(the file stays, the lock does not), and a second process asking for it is told at once.
"""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

from tradecrew.errors import TradecrewError

LOCK_NAME = "serve.lock"


class AlreadyRunning(TradecrewError):
    """Another ``tradecrew serve`` holds this home's lock."""


class LockUnusable(TradecrewError):
    """The lock file is a link or not this user's: someone tampered with the home."""


class HomeLock:
    """Held from ``acquire`` until ``release`` (or the process's end)."""

    def __init__(self, home: Path) -> None:
        self.path = home / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> HomeLock:
        # The pid is written into the file: never through a link planted in its place.
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError:
            raise LockUnusable(
                f"{self.path} is not a plain file the desk can open (a link?); remove it"
            ) from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            os.close(fd)
            raise LockUnusable(f"{self.path} is not a file of this user's; remove it")
        if stat.S_IMODE(st.st_mode) & 0o077:
            os.fchmod(fd, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f" (pid {holder})" if holder else ""
            raise AlreadyRunning(
                f"tradecrew serve is already running for {self.path.parent}{who}; stop it "
                "first, or give another TRADECREW_HOME"
            ) from None
        # The pid is for people reading the file; the lock itself is what counts.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> HomeLock:
        return self.acquire()

    def __exit__(self, *_exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None
