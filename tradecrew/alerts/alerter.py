"""The alert dispatcher: throttle, then hand each alert to every configured sink on a
background thread, so a slow or failing sink never holds up or breaks the desk.

Failures are counted per sink (``stats``) and logged by type only; ``send`` never raises.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field

from tradecrew.alerts.events import AlertEvent
from tradecrew.alerts.sinks import SinkError, TelegramBot, TelegramSink, WebhookSink
from tradecrew.config_sections import AlertSettings

log = logging.getLogger("tradecrew.alerts")
# Failures are counted and go to whatever logging the process set up (the serve daemon's);
# a bare CLI run does not get Python's last-resort lines on stderr (one ``error:`` line).
log.addHandler(logging.NullHandler())
_STOP = object()


class Sink(Protocol):
    name: str

    def deliver(self, event: AlertEvent, buttons: list[dict[str, str]] | None = None) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ButtonTerms:
    """What a pending proposal's buttons approve: its id and the risk decision's order hash,
    until the decision expires."""

    proposal_id: str
    order_hash: str
    expires_at: datetime


class AlertStats(BaseModel):
    """What happened to the alerts sent through one dispatcher."""

    sinks: list[str] = Field(default_factory=list)
    received: int = 0
    delivered: Counter[str] = Field(default_factory=Counter, description="per sink")
    failed: Counter[str] = Field(default_factory=Counter, description="per sink")
    deduplicated: int = 0
    rate_limited: int = 0
    dropped: int = Field(0, description="the queue was full")
    last_error: str | None = None


class Alerter:
    """One process's alert dispatcher for ``settings`` (no sinks configured: a no-op)."""

    def __init__(
        self,
        settings: AlertSettings,
        *,
        home: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from tradecrew.alerts.throttle import Throttle

        self.settings = settings
        self._home = home
        self._clock = clock
        self._throttle = Throttle(
            settings.dedup_seconds, settings.rate_limit, settings.rate_window_seconds
        )
        self._sinks: list[Sink] | None = None
        self._queue: queue.Queue[object] = queue.Queue(maxsize=1000)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stats = AlertStats(sinks=self._sink_names())

    def _sink_names(self) -> list[str]:
        names = []
        if self.settings.webhook_url is not None:
            names.append("webhook")
        if self.settings.telegram_enabled:
            names.append("telegram")
        return names

    @property
    def enabled(self) -> bool:
        return bool(self._stats.sinks)

    def stats(self) -> AlertStats:
        with self._lock:
            stats = self._stats.model_copy(deep=True)
        stats.deduplicated = self._throttle.deduplicated
        stats.rate_limited = self._throttle.rate_limited
        return stats

    def send(self, event: AlertEvent, *, terms: ButtonTerms | None = None) -> None:
        """Queue ``event`` for every sink; never raises, never waits on the network.
        ``terms``: the proposal and risk-approved terms its Telegram buttons are bound to,
        given only by the desk from what it stored (buttons only where the chat approves)."""
        try:
            with self._lock:
                self._stats.received += 1
            if not self.enabled:
                return
            for admitted in self._throttle.admit(event, self._clock()):
                self._queue.put_nowait((admitted, terms if admitted is event else None))
            self._start()
        except queue.Full:
            with self._lock:
                self._stats.dropped += 1
        except Exception as exc:  # an alert must never break what the desk was doing
            self.record_failure("alerts", exc)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued alert was delivered or failed; False on timeout."""
        for summary in self._throttle.flush_summary(self._clock()):
            self._queue.put_nowait((summary, None))
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (up to ``timeout``), then stop the worker and the clients."""
        if self._thread is not None:
            self.flush(timeout)
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None
        for sink in self._sinks or []:
            sink.close()
        self._sinks = None

    # ------------------------------------------------------------------ worker

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._work, name="tradecrew-alerts", daemon=True
                )
                self._thread.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                assert isinstance(item, tuple)
                self._deliver(*item)
            finally:
                self._queue.task_done()

    def _build_sinks(self) -> list[Sink]:
        if self._sinks is None:
            s = self.settings
            sinks: list[Sink] = []
            if s.webhook_url is not None:
                sinks.append(WebhookSink(s.webhook_url, s.timeout_seconds))
            if s.telegram_enabled:
                assert s.telegram_bot_token is not None and s.telegram_chat_id is not None
                bot = TelegramBot(s.telegram_api_url, s.telegram_bot_token, s.timeout_seconds)
                sinks.append(TelegramSink(bot, s.telegram_chat_id))
            self._sinks = sinks
        return self._sinks

    def _buttons(self, terms: ButtonTerms | None) -> list[dict[str, str]] | None:
        """Approve/reject buttons for a pending proposal, where the chat is the approver's."""
        if terms is None or not self.settings.telegram_approves:
            return None
        from tradecrew.alerts.signing import CallbackKey, buttons

        key = CallbackKey.for_home(self._home)
        return buttons(key, terms.proposal_id, terms.order_hash, terms.expires_at)

    def _deliver(self, event: AlertEvent, terms: ButtonTerms | None) -> None:
        try:
            sinks = self._build_sinks()
        except Exception as exc:
            self.record_failure("alerts", exc)
            return
        for sink in sinks:
            try:
                extra = self._buttons(terms) if sink.name == "telegram" else None
                sink.deliver(event, extra)
            except Exception as exc:
                self.record_failure(sink.name, exc)
            else:
                with self._lock:
                    self._stats.delivered[sink.name] += 1

    def record_failure(self, sink: str, exc: BaseException) -> None:
        """Count a failure of ``sink`` (a sink, or a job using one, like the Telegram poll)."""
        # SinkError messages are written without URLs; any other exception is named by its
        # type alone, as its text might quote a request.
        why = str(exc) if isinstance(exc, SinkError) else type(exc).__name__
        with self._lock:
            self._stats.failed[sink] += 1
            self._stats.last_error = f"{sink}: {why}"
        log.warning("alert delivery through %s failed: %s", sink, why)
