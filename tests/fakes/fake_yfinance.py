"""A fake ``yfinance`` module with the real library's return shapes (yfinance 1.x).

``download`` returns columns ``(Price, Ticker)`` (a MultiIndex, prices sorted by name),
an index in the exchange's time zone (``ignore_tz=False``), and, for a ticker it could not
fetch, whatever the cause, NaN columns (all tickers failing: an empty frame); it never
raises. ``Ticker.history`` raises ``YFRateLimitError`` or ``YFPricesMissingError`` when
``config.debug.hide_exceptions`` is off, else returns an empty frame, as the library does.
Install with ``install(monkeypatch)``; every call is counted in ``calls``.
"""

from __future__ import annotations

import logging
import types
from typing import Any

import numpy as np
import pandas as pd
import pytest

_LOG = logging.getLogger("yfinance")  # the logger the library writes to


class YFException(Exception):
    pass


class YFRateLimitError(YFException):
    def __init__(self) -> None:
        super().__init__("Too Many Requests. Rate limited. Try after a while.")


class YFPricesMissingError(YFException):
    def __init__(self, ticker: str, debug_info: str = "") -> None:
        super().__init__(f"${ticker}: possibly delisted; no price data found {debug_info}")


_TZ = {"=X": "Europe/London", "-USD": "UTC"}


def _empty() -> pd.DataFrame:
    # yfinance.utils.empty_df: the columns a failed ticker gets, index named Date
    frame = pd.DataFrame(
        index=[],
        data={c: np.nan for c in ("Open", "High", "Low", "Close", "Adj Close", "Volume")},
    )
    frame.index.name = "Date"
    return frame


def daily(n: int, last: str, price: float, tz: str = "America/New_York") -> pd.DataFrame:
    """``n`` weekday bars ending ``last``, stamped at the exchange's midnight, as history()
    returns them (Open High Low Close Volume, index ``Date``)."""
    days = pd.bdate_range(end=last, periods=n)
    index = pd.DatetimeIndex(days).tz_localize(tz)
    close = price + np.arange(n) * 0.5
    frame = pd.DataFrame(
        {
            "Open": close - 0.2,
            "High": close + 1.0,
            "Low": close - 1.0,
            "Close": close,
            "Volume": np.full(n, 1_000_000, dtype="int64"),
        },
        index=index,
    )
    frame.index.name = "Date"
    return frame


class FakeYFinance:
    def __init__(self) -> None:
        self.series: dict[tuple[str, str], pd.DataFrame] = {}  # (ticker, interval) -> bars
        self.calls: list[tuple[str, tuple[str, ...], str]] = []
        self.rate_limited = 0  # calls that Yahoo refuses with its rate limit
        self.offline = False
        self.module = self._module()

    def _module(self) -> types.ModuleType:
        mod = types.ModuleType("yfinance")
        mod.download = self.download  # type: ignore[attr-defined]
        mod.Ticker = lambda ticker: _Ticker(self, ticker)  # type: ignore[attr-defined]
        debug = types.SimpleNamespace(hide_exceptions=True, logging=False)
        mod.config = types.SimpleNamespace(debug=debug)  # type: ignore[attr-defined]
        exc = types.ModuleType("yfinance.exceptions")
        for cls in (YFException, YFRateLimitError, YFPricesMissingError):
            setattr(exc, cls.__name__, cls)
        mod.exceptions = exc  # type: ignore[attr-defined]
        mod.__version__ = "1.7.0"  # type: ignore[attr-defined]
        return mod

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeYFinance:
        monkeypatch.setitem(__import__("sys").modules, "yfinance", self.module)
        monkeypatch.setitem(
            __import__("sys").modules, "yfinance.exceptions", self.module.exceptions
        )
        return self

    # ------------------------------------------------------------------ library api

    def _history(self, ticker: str, start: Any, interval: str) -> pd.DataFrame:
        """One ticker as history() computes it; raises what the library raises inside."""
        if self.offline:
            raise ConnectionError("Failed to perform, curl: (6) Could not resolve host")
        if self.rate_limited > 0:
            self.rate_limited -= 1
            raise YFRateLimitError()
        frame = self.series.get((ticker.upper(), interval))
        if frame is None:
            raise YFPricesMissingError(ticker, f"(1d {start} -> now)")
        if start is not None:
            lo = pd.Timestamp(start)
            lo = lo.tz_localize("UTC") if lo.tzinfo is None else lo
            frame = frame[frame.index >= lo.tz_convert(frame.index.tz)]
        return frame.copy()

    def download(self, tickers: Any, start: Any = None, interval: str = "1d", **kw: Any) -> Any:
        names = tickers if isinstance(tickers, list | tuple | set) else str(tickers).split()
        names = sorted({t.upper() for t in names})
        self.calls.append(("download", tuple(names), interval))
        assert kw.get("group_by", "column") == "column"
        dfs: dict[str, pd.DataFrame] = {}
        for t in names:
            try:
                dfs[t] = self._history(t, start, interval)
            except Exception as exc:  # download logs the error and keeps an empty frame
                _LOG.error("\n1 Failed download:\n['%s']: %r", t, exc)
                dfs[t] = _empty()
        if not kw.get("ignore_tz", interval[-1] not in "mh"):
            tzs = [str(df.index.tz) for df in dfs.values() if not df.empty]
            if tzs:
                mode = max(set(tzs), key=tzs.count)
                for t, df in dfs.items():
                    if not df.empty:
                        dfs[t].index = df.index.tz_convert(mode)
        else:
            for t, df in dfs.items():
                if not df.empty:
                    dfs[t].index = df.index.tz_localize(None)
        idx = None
        for df in dfs.values():
            if not df.empty:
                idx = df.index if idx is None else idx.union(df.index)
        idx = pd.DatetimeIndex([]) if idx is None else idx
        dfs = {t: df.reindex(idx) for t, df in dfs.items()}
        data = pd.concat(
            dfs.values(), axis=1, sort=True, keys=dfs.keys(), names=["Ticker", "Price"]
        )
        data.columns = data.columns.swaplevel(0, 1)
        data = data.sort_index(level=0, axis=1)
        return data


class _Ticker:
    def __init__(self, fake: FakeYFinance, ticker: str) -> None:
        self._fake, self.ticker = fake, ticker.upper()

    def history(self, start: Any = None, interval: str = "1d", **kw: Any) -> pd.DataFrame:
        self._fake.calls.append(("history", (self.ticker,), interval))
        try:
            return self._fake._history(self.ticker, start, interval)
        except Exception as exc:
            _LOG.error("%s: %r", self.ticker, exc)  # as the library logs it, raised or not
            if not self._fake.module.config.debug.hide_exceptions:
                raise
            return _empty()
