"""How fresh each watched symbol's data is, as the refresh job last read it.

A live source's quote carries the market's time, so its age is now minus that time. Replayed
sources (``sample``, ``csv``) have no live clock: their age is the time since the daemon last
read them, so a file that cannot be read any more ages, and one that can stays fresh.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from tradecrew.models import Quote

_REPLAYED = ("sample", "csv")


@dataclass(frozen=True)
class Seen:
    read_at: datetime
    quote: Quote
    replayed: bool

    def age(self, now: datetime) -> float:
        since = self.read_at if self.replayed else self.quote.timestamp
        return max((now - since).total_seconds(), 0.0)


class QuoteBook:
    """The last quote time per symbol; written by the refresh job, read by the watch and
    ``/readyz`` from other threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, Seen] = {}
        self._failed: dict[str, str] = {}

    def saw(self, quote: Quote, now: datetime) -> None:
        replayed = quote.source.split(":")[0] in _REPLAYED
        with self._lock:
            self._seen[quote.symbol.upper()] = Seen(now, quote, replayed)
            self._failed.pop(quote.symbol.upper(), None)

    def failed(self, symbol: str, why: str) -> None:
        with self._lock:
            self._failed[symbol.upper()] = why

    def ages(self, symbols: list[str], now: datetime) -> dict[str, float]:
        """Age in seconds of every symbol read at least once."""
        with self._lock:
            return {s: self._seen[s].age(now) for s in symbols if s in self._seen}

    def seen(self, symbol: str) -> Seen | None:
        with self._lock:
            return self._seen.get(symbol.upper())

    def failures(self) -> dict[str, str]:
        with self._lock:
            return dict(self._failed)

    def forget(self, keep: set[str]) -> None:
        """Drop symbols no longer watched or held (a long run sees many)."""
        with self._lock:
            for symbol in set(self._seen) - keep:
                del self._seen[symbol]
            for symbol in set(self._failed) - keep:
                del self._failed[symbol]
