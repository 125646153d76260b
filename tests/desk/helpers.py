"""Building blocks for desk tests: a desk on real files, a broker that counts, a clock."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tradecrew.brokers.paper import PaperBroker
from tradecrew.config import BrokerSettings, RiskSettings, Settings
from tradecrew.desk import Desk
from tradecrew.ledger import AuditEntry, Ledger
from tradecrew.models import Order

REPO = Path(__file__).resolve().parents[2]

#: A fixed instant for deterministic decisions (a weekday, away from the sample calendar).
T0 = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)


class Clock:
    """A settable clock for ``Desk(clock=...)``; thread-safe so workers can share it."""

    def __init__(self, start: datetime = T0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now


@dataclass
class SubmitLog:
    """Every client order id the desk tried to send, and those the venue took."""

    attempts: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def duplicates(self) -> list[str]:
        return [cid for cid, n in Counter(self.attempts).items() if n > 1]


class CountingPaperBroker(PaperBroker):
    """The real paper venue, noting each ``submit`` call in a log that outlives restarts."""

    def __init__(self, *args: Any, log: SubmitLog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log = log

    def submit(self, order: Order) -> Order:
        with self.log.lock:
            self.log.attempts.append(order.client_order_id)
        placed = super().submit(order)
        with self.log.lock:
            self.log.accepted.append(order.client_order_id)
        return placed


#: A desk home holding this file keeps its ledger at the URL it names (``desk_home`` writes
#: it for PostgreSQL); processes started on the home read it too.
LEDGER_URL_FILE = "ledger.url"


def ledger_url_of(home: Path) -> str:
    """The ledger URL of a test desk in ``home``: SQLite's ``l.db`` unless the file says."""
    named = home / LEDGER_URL_FILE
    return named.read_text().strip() if named.exists() else f"sqlite:///{home / 'l.db'}"


def make_settings(home: Path, *, auto_approve: bool = False, **risk: Any) -> Settings:
    """Settings under ``home``; the per-minute order cap is lifted unless a test sets it."""
    risk.setdefault("max_orders_per_minute", 1_000_000)
    return Settings(
        home=home,
        risk=RiskSettings(**risk),
        broker=BrokerSettings(auto_approve_paper=auto_approve),
    )


def build_desk(
    home: Path,
    settings: Settings,
    *,
    log: SubmitLog | None = None,
    clock: Clock | None = None,
    broker_cls: type[PaperBroker] = PaperBroker,
    source: str | None = None,
) -> Desk:
    """A desk whose ledger and paper venue live in ``home``; the same home after a restart
    reopens the same files. ``source``: the bars both the desk and the venue read."""
    kwargs: dict[str, Any] = {"settings": settings.broker, "source": source}
    if log is not None:
        broker_cls = CountingPaperBroker
        kwargs["log"] = log
    broker = broker_cls(home / "paper.db", **kwargs)
    ledger = Ledger(ledger_url_of(home), home=home)
    if clock is None:
        return Desk(ledger, broker, settings, source=source)
    return Desk(ledger, broker, settings, source=source, clock=clock)


def full_audit(ledger: Ledger) -> list[AuditEntry]:
    """Every audit row, oldest first."""
    return list(reversed(ledger.audit_log(max(ledger.audit_count(), 1))))


def start_sender(
    home: Path, source: str, *args: str, ready: str
) -> tuple[subprocess.Popen[str], str]:
    """Run ``source`` as a process of its own (argv: ``home``, then ``args``); return it and
    the proposal id it prints first, once its next line starts with ``ready``."""
    script = home / "sender.py"
    script.write_text(source)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(home), *args],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proposal_id = proc.stdout.readline().strip()
    line = proc.stdout.readline()
    assert line.startswith(ready), (proposal_id, line, proc.stderr.read())
    return proc, proposal_id
