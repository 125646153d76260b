"""The daemon: the desk's jobs on a schedule, a continuous risk watch, metrics and health.

Names load on first use, so the lock (``tradecrew.serve.lock``) imports nothing heavy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradecrew.serve.daemon import Daemon, Options
    from tradecrew.serve.lock import AlreadyRunning, HomeLock
    from tradecrew.serve.metrics import METRIC_NAMES, DeskMetrics

_EXPORTS = {
    "Daemon": "tradecrew.serve.daemon",
    "Options": "tradecrew.serve.daemon",
    "AlreadyRunning": "tradecrew.serve.lock",
    "HomeLock": "tradecrew.serve.lock",
    "METRIC_NAMES": "tradecrew.serve.metrics",
    "DeskMetrics": "tradecrew.serve.metrics",
}

__all__ = ["METRIC_NAMES", "AlreadyRunning", "Daemon", "DeskMetrics", "HomeLock", "Options"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(name)
    return getattr(import_module(_EXPORTS[name]), name)
