"""Deduplication and rate limiting: a flapping condition or a burst never floods a chat.

The same key within ``dedup_seconds`` goes out once. At most ``limit`` alerts go out per
``window`` seconds; the rest of that window are counted and go out as one summary alert when
the next window opens (``admit`` or ``flush_summary``). Pure: the caller passes the clock.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass, field

from tradecrew.alerts.events import AlertEvent, AlertKind, Severity


@dataclass
class Throttle:
    dedup_seconds: float
    limit: int
    window: float
    _last_seen: dict[str, float] = field(default_factory=dict)
    _sent: deque[float] = field(default_factory=deque)
    _held: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    deduplicated: int = 0
    rate_limited: int = 0

    def admit(self, event: AlertEvent, now: float) -> list[AlertEvent]:
        """What to send now for ``event``: nothing (a duplicate, or over the limit), the
        event, or a summary of the last window's held alerts followed by the event."""
        with self._lock:
            key = event.dedup_key
            seen = self._last_seen.get(key)
            if seen is not None and now - seen < self.dedup_seconds:
                self.deduplicated += 1
                return []
            self._last_seen[key] = now
            self._prune(now)
            out = self._summary(now)
            if len(self._sent) >= self.limit:
                self.rate_limited += 1
                self._held[event.kind.value] += 1
                return out
            self._sent.append(now)
            return [*out, event]

    def flush_summary(self, now: float) -> list[AlertEvent]:
        """The summary of held alerts once the window that held them has passed."""
        with self._lock:
            self._prune(now)
            return self._summary(now)

    def _prune(self, now: float) -> None:
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()
        if len(self._last_seen) > 10_000:  # keys of long-gone alerts
            horizon = now - self.dedup_seconds
            self._last_seen = {k: t for k, t in self._last_seen.items() if t >= horizon}

    def _summary(self, now: float) -> list[AlertEvent]:
        if not self._held or len(self._sent) >= self.limit:
            return []
        total = sum(self._held.values())
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self._held.items()))
        self._held.clear()
        self._sent.append(now)
        return [
            AlertEvent(
                kind=AlertKind.SUMMARY,
                severity=Severity.WARNING,
                title=f"{total} more alerts held back by the rate limit",
                text=kinds,
            )
        ]
