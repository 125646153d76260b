"""The desk's home folder and the files in it are private to the user who runs the desk.

The home holds the ledger, the paper venue's book and the audit key: another local user who
can write the folder can swap a database for one of their own (the desk would show, and size
risk on, their numbers), and one who can read the files reads the ledger. So the home is
created 0700 and refused, as ssh refuses a loose ``~/.ssh``, when another user owns it or can
write it; the databases the desk creates are 0600 (SQLite gives its -wal and -shm files the
main file's mode).
"""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Callable
from pathlib import Path

from tradecrew.errors import TradecrewError

_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


class HomeNotPrivate(TradecrewError):
    """The home folder is not private to this user; the message says how to fix it."""


def _owner_checks() -> bool:
    return hasattr(os, "geteuid")  # POSIX; Windows keeps its own ACLs


def private_home(path: Path) -> Path:
    """``path`` as the desk's home: created 0700 when missing; a HomeNotPrivate when it
    exists and another user owns it or may write to it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not _owner_checks():
        return path
    st = path.stat()
    shown = shlex.quote(str(path))
    if st.st_uid != os.geteuid():
        raise HomeNotPrivate(
            f"TRADECREW_HOME {path} belongs to another user (uid {st.st_uid}), who could "
            "change the ledger; use a folder of your own"
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise HomeNotPrivate(
            f"TRADECREW_HOME {path} can be written by other users (mode "
            f"{stat.S_IMODE(st.st_mode):o}), who could swap its databases; run chmod 700 {shown}"
        )
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty and 0600 if missing (SQLite takes an empty file as a new
    database), and take group and other access off it and its SQLite companions when this
    user owns them. A missing folder is left for the caller to report."""
    if not _owner_checks():
        return path
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o600)
    except OSError:
        return path  # opening it for real says what is wrong, in the caller's words
    try:
        _tighten(os.fstat(fd), lambda mode: os.fchmod(fd, mode))
    finally:
        os.close(fd)
    for suffix in _SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        try:
            _tighten(companion.stat(), companion.chmod)
        except OSError:
            continue  # absent: SQLite creates it with the main file's mode
    return path


def _tighten(st: os.stat_result, chmod: Callable[[int], None]) -> None:
    mode = stat.S_IMODE(st.st_mode)
    if st.st_uid == os.geteuid() and mode & 0o077 and stat.S_ISREG(st.st_mode):
        chmod(mode & 0o700)
