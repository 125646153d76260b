"""How the desk reaches the OpenBB Platform (``from openbb import obb``, extra ``openbb`` =
openbb-core plus openbb-yfinance), for prices and news alike: the import, retries of a
rate-limited or failing provider, and one line naming openbb and the cause."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from tradecrew.config import DataSettings
from tradecrew.data.base import SourceUnavailable, UnknownSymbolError
from tradecrew.data.live import with_retries
from tradecrew.text import one_line

PROVIDER = "openbb"
INSTALL = "run `uv sync --extra openbb` or `pip install 'tradecrew[openbb]'`"
_EMPTY = ("not found", "no results", "no data", "emptydata", "empty data")
_BUSY = ("429", "too many requests", "rate limit", "ratelimit", "502", "503", "504")
_NETWORK = ("connection", "timeout", "timed out", "resolve", "network", "unreachable")
_KEY = ("unauthorized", "401", "403", "api key", "apikey", "credential")


def load_obb() -> Any:
    """The ``obb`` application object, or one line saying how to install the extra."""
    try:
        return importlib.import_module("openbb").obb
    except ImportError:
        raise SourceUnavailable(PROVIDER, f"OpenBB is not installed; {INSTALL}") from None


def _words(exc: BaseException) -> str:
    return f"{type(exc).__name__} {exc}".lower()


def call(
    fn: Callable[[], Any],
    *,
    what: str,
    symbol: str,
    cfg: DataSettings,
    backoff: float,
    sleep: Callable[[float], None],
) -> list[Any]:
    """``fn()`` (an ``obb`` command) retried while the provider is busy; its ``results``.

    OpenBB wraps every provider failure in ``OpenBBError``: the words say which kind it is.
    No results is an unknown symbol (bad input); everything else that stops an answer is an
    outage (``SourceUnavailable``)."""

    def busy(exc: BaseException) -> float | None:
        return 0.0 if any(w in _words(exc) for w in _BUSY) else None

    try:
        reply = with_retries(
            fn,
            retryable=busy,
            attempts=cfg.max_attempts,
            backoff=backoff,
            max_wait=cfg.max_retry_wait_seconds,
            sleep=sleep,
        )
    except Exception as exc:
        words = _words(exc)
        text = one_line(str(exc), 160) or type(exc).__name__
        if any(w in words for w in _EMPTY):
            raise UnknownSymbolError(symbol, [], PROVIDER, detail=f"{what}: {text}") from None
        if any(w in words for w in _KEY):
            raise SourceUnavailable(
                PROVIDER,
                f"{what}: the provider refused the key ({text}); set it in OpenBB's "
                "user settings (~/.openbb_platform/user_settings.json)",
            ) from None
        if any(w in words for w in _BUSY):
            raise SourceUnavailable(PROVIDER, f"{what}: rate limited or busy ({text})") from None
        if any(w in words for w in _NETWORK):
            raise SourceUnavailable(PROVIDER, f"{what}: no network ({text})") from None
        raise SourceUnavailable(PROVIDER, f"{what} failed: {text}") from None
    results = getattr(reply, "results", None)
    if results is None:
        return []
    if not isinstance(results, list):
        raise SourceUnavailable(PROVIDER, f"{what}: malformed reply (results are not a list)")
    return results


def field(item: Any, name: str) -> Any:
    """A field of one result row: a pydantic Data model (extra fields allowed) or a dict."""
    if isinstance(item, dict):
        return item.get(name)
    value = getattr(item, name, None)
    if value is None and hasattr(item, "model_extra"):
        value = (item.model_extra or {}).get(name)
    return value
