"""The anchor: an append-only file outside the database holding the chain head after commits.

A keyed chain cannot be forged, but it can be cut: delete the last rows and point the head
row at the new last one and every remaining hash still checks. The anchor remembers how far
the chain reached (and its hash there), so verification sees a chain that went backwards
or was replaced. One line per write transaction: ``seq hash key_id time``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tradecrew.models import utcnow

log = logging.getLogger(__name__)

_LINE = re.compile(r"^(\d+) ([0-9a-f]{64}) ([0-9a-f]{16}) (\S+)$")


@dataclass(frozen=True)
class Anchored:
    """One anchoring: the chain reached ``seq`` with hash ``hash`` at ``at``."""

    line: int
    seq: int
    hash: str
    key_id: str
    at: str


def anchor_path(home: Path, url: str) -> Path:
    """One anchor file per ledger in ``home``: named after the SQLite file, or the server's
    host, port and database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        label = Path(parsed.database or "memory").name
    else:
        label = "-".join(
            str(p) for p in (parsed.get_backend_name(), parsed.host, parsed.port, parsed.database)
        )
    return home / f"audit-{re.sub(r'[^A-Za-z0-9._-]', '_', label)}.anchor"


class Anchor:
    """Appends to the anchor file (O_APPEND: lines from several processes never interleave)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._warned = False

    def append(self, seq: int, digest: str, key_id: str) -> None:
        """Record the head after a commit. A failure is logged, not raised: the change is
        committed already, and an anchor that lags only weakens the truncation check.

        Not fsynced: a line lost in a power cut only makes the anchor lag (harmless), and
        an fsync per order doubled the desk's round-trip p99 on a loaded machine."""
        line = f"{seq} {digest} {key_id} {utcnow().strftime('%Y-%m-%dT%H:%M:%S.%fZ')}\n"
        try:
            with self._lock:
                if self._fd is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                os.write(self._fd, line.encode("ascii"))
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("cannot append to the audit anchor %s: %s", self.path, exc.strerror)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def tail_anchored(path: Path, size: int = 4096) -> list[Anchored]:
    """The complete lines in the file's last ``size`` bytes, oldest first (the order path
    reads them per trade: cheap, and recent enough to see a tail cut since); [] when the
    file is missing or empty. Malformed lines are left to ``verify``."""
    try:
        with path.open("rb") as f:
            end = f.seek(0, os.SEEK_END)
            f.seek(max(0, end - size))
            tail = f.read().decode("ascii", errors="replace")
            whole = end <= size
    except FileNotFoundError:
        return []
    lines = tail.split("\n")
    lines.pop()  # "" after the last newline, or a torn last line
    if not whole and lines:
        lines.pop(0)  # the first may be cut in the middle
    found = []
    for line in lines:
        m = _LINE.match(line)
        if m is not None:
            found.append(Anchored(0, int(m[1]), m[2], m[3], m[4]))
    return found


def read_anchor(path: Path) -> tuple[list[Anchored], list[str]] | None:
    """The anchorings in the file and a problem per malformed line; None if there is no file.
    A last line without its newline is a write cut short by a crash and is skipped."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        lines.pop()  # torn last line
    found, problems = [], []
    for number, line in enumerate(lines, start=1):
        m = _LINE.match(line)
        if m is None:
            problems.append(f"anchor {path} line {number} is malformed")
            continue
        found.append(Anchored(number, int(m[1]), m[2], m[3], m[4]))
    return found, problems
