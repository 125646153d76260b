"""Alerts on fills, vetoes, trading-state changes, limit breaches, stale data and errors,
through a webhook and Telegram; and Telegram's signed approve/reject buttons.

Anyone may call ``send(AlertEvent(...))``: it never raises and never blocks on the network.
A ``Desk`` has its own dispatcher (``desk.alerts``) built from its settings.
"""

from __future__ import annotations

import threading

from tradecrew.alerts.alerter import Alerter, AlertStats
from tradecrew.alerts.events import AlertEvent, AlertKind, Severity

__all__ = [
    "AlertEvent",
    "AlertKind",
    "AlertStats",
    "Alerter",
    "Severity",
    "default_alerter",
    "send",
]

_default: list[Alerter] = []
_lock = threading.Lock()


def default_alerter() -> Alerter:
    """The process's dispatcher for ``get_settings()``, made on first use."""
    with _lock:
        if not _default:
            from tradecrew.config import get_settings

            settings = get_settings()
            _default.append(Alerter(settings.alerts, home=settings.home))
        return _default[0]


def send(event: AlertEvent) -> None:
    """Send ``event`` through the configured sinks (none configured: nothing happens)."""
    try:
        default_alerter().send(event)
    except Exception:  # settings that cannot load must not break the caller either
        return
