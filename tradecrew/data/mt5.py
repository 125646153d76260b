"""``Mt5DataProvider``: bars and ticks from a running MetaTrader 5 terminal, through the
``MetaTrader5`` module (Windows) or the mt5linux bridge, connected as the MT5 broker is.

Each symbol's own contract data (``symbol_info``: digits, tick size, contract size, volume
step, trade mode) becomes its instrument, so any symbol the terminal lists is usable. Bar
times are the server's clock; ``data.mt5_server_utc_offset_hours`` turns them into UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from tradecrew.config import Settings, get_settings
from tradecrew.data.base import SourceUnavailable, TimeLike, UnknownSymbolError, to_utc
from tradecrew.data.live import CachedLiveProvider, canonical
from tradecrew.data.mt5_symbols import SOURCE, info_row, instrument
from tradecrew.data.mt5_terminal import Mt5TerminalError, load_module
from tradecrew.instrument_search import InstrumentInfo
from tradecrew.instruments import find_instrument, normalize_symbol, register_instrument
from tradecrew.models import Quote, Timeframe, TradePrint
from tradecrew.text import one_line

# mt5.TIMEFRAME_* values, for a module that does not export them.
TIMEFRAMES = {
    Timeframe.M1: 1,
    Timeframe.M5: 5,
    Timeframe.M15: 15,
    Timeframe.M30: 30,
    Timeframe.H1: 16385,
    Timeframe.H4: 16388,
    Timeframe.D1: 16408,
    Timeframe.W1: 32769,
    Timeframe.MN1: 49153,
}
COPY_TICKS_TRADE = 2


class Mt5DataProvider(CachedLiveProvider):
    """Bars, quotes and trade ticks from the terminal; cached on disk like other sources."""

    name = SOURCE
    native = frozenset(TIMEFRAMES)

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        module: Any = None,
        symbol_map: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        cfg = settings or get_settings()
        super().__init__(cfg, **kwargs)
        self._broker_cfg = cfg.broker
        self._offset = pd.Timedelta(hours=cfg.data.mt5_server_utc_offset_hours)
        self._mt5 = module
        self._ready = False
        self._symbols = {normalize_symbol(k): v for k, v in (symbol_map or {}).items()}

    def __repr__(self) -> str:
        return "Mt5DataProvider()"

    # ------------------------------------------------------------------ terminal

    def _terminal(self) -> Any:
        """The connected terminal module; one line naming mt5 and the cause otherwise."""
        if self._mt5 is None:
            try:
                self._mt5 = load_module(self._broker_cfg.mt5_host, self._broker_cfg.mt5_port)
            except Mt5TerminalError as exc:
                raise SourceUnavailable(SOURCE, str(exc)) from None
        if not self._ready:
            if not self._guard(self._mt5.initialize):
                raise SourceUnavailable(
                    SOURCE, f"cannot connect to the terminal: {self._last_error()}"
                )
            self._ready = True
        return self._mt5

    def _guard(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except (ConnectionError, EOFError, TimeoutError, OSError) as exc:
            raise SourceUnavailable(
                SOURCE, f"terminal unreachable ({type(exc).__name__})"
            ) from None

    def _last_error(self) -> str:
        try:
            code, message = self._mt5.last_error()
            return one_line(f"{code} {message}", 200)  # the terminal's words: one plain line
        except Exception:
            return "no detail"

    def _info(self, name: str) -> Any:
        mt5 = self._terminal()
        info = self._guard(mt5.symbol_info, name)
        if info is None:
            raise UnknownSymbolError(
                name, [], SOURCE, detail=f"the terminal lists no symbol {name!r}"
            )
        if not getattr(info, "visible", True):
            self._guard(mt5.symbol_select, name, True)  # data flows only for Market Watch
        return info

    # ------------------------------------------------------------------ hooks

    def _resolve(self, symbol: str) -> tuple[str, str]:
        text = str(symbol).strip()
        if not text or len(text) > 40 or any(c.isspace() or not c.isprintable() for c in text):
            raise UnknownSymbolError(symbol, [], SOURCE, detail="not a terminal symbol name")
        desk = normalize_symbol(text)
        known = find_instrument(desk)
        if known is not None:
            desk = known.symbol
        return desk, self._symbols.get(desk, text if known is None else desk)

    def _registered(self, desk: str, native: str) -> None:
        if find_instrument(desk) is None:
            register_instrument(instrument(self._info(native), desk))

    def _fetch(
        self, natives: list[str], tf: Timeframe, since: pd.Timestamp
    ) -> dict[str, pd.DataFrame]:
        mt5 = self._terminal()
        code = getattr(mt5, f"TIMEFRAME_{tf.value}", TIMEFRAMES[tf])
        start = (since + self._offset).to_pydatetime()
        end = (self._clock() + self._offset + pd.Timedelta(days=1)).to_pydatetime()
        out: dict[str, pd.DataFrame] = {}
        for name in natives:
            self._info(name)
            rates = self._guard(mt5.copy_rates_range, name, code, start, end)
            if rates is None:
                raise SourceUnavailable(
                    SOURCE, f"copy_rates_range failed for {name}: {self._last_error()}"
                )
            if len(rates) == 0:
                self._why[name] = f"the terminal has no {tf.value} bars for {name}"
                continue
            out[name] = self._frame(rates, name, tf)
        return out

    def _frame(self, rates: Any, name: str, tf: Timeframe) -> pd.DataFrame:
        try:
            real = np.asarray(rates["real_volume"], dtype="float64")
            ticks = np.asarray(rates["tick_volume"], dtype="float64")
            frame = pd.DataFrame(
                {
                    "open": rates["open"],
                    "high": rates["high"],
                    "low": rates["low"],
                    "close": rates["close"],
                    # exchange symbols report traded volume; OTC ones only ticks
                    "volume": np.where(real > 0, real, ticks),
                },
                index=pd.to_datetime(np.asarray(rates["time"], dtype="int64"), unit="s", utc=True)
                - self._offset,
            )
        except (KeyError, ValueError, TypeError, IndexError):
            raise SourceUnavailable(SOURCE, f"malformed rates for {name}") from None
        return canonical(frame, f"{name} {tf.value}", SOURCE, daily=tf.minutes >= 1440)

    # ------------------------------------------------------------------ quotes and ticks

    def quote(self, symbol: str) -> Quote:
        """The terminal's latest tick (bid, ask, last) for the symbol."""
        desk, name = self._resolve(symbol)
        self._info(name)
        tick = self._guard(self._terminal().symbol_info_tick, name)
        if tick is None:
            raise SourceUnavailable(SOURCE, f"no tick for {name}: {self._last_error()}")
        bid, ask = float(tick.bid), float(tick.ask)
        last = float(tick.last or 0.0) or (bid + ask) / 2
        when = datetime.fromtimestamp(int(tick.time_msc) / 1000, UTC) - self._offset
        self._registered(desk, name)
        return Quote(
            symbol=desk, bid=bid, ask=ask, last=last, timestamp=when, synthetic=False, source=SOURCE
        )

    def trades(
        self, symbol: str, start: TimeLike | None = None, end: TimeLike | None = None
    ) -> list[TradePrint]:
        """Trade ticks (``COPY_TICKS_TRADE``) from the terminal; exchange symbols have them,
        OTC forex and CFDs usually do not."""
        _, name = self._resolve(symbol)
        self._info(name)
        mt5 = self._terminal()
        hi = to_utc(end, "end") if end is not None else self._clock()
        lo = to_utc(start, "start") if start is not None else hi - pd.Timedelta(hours=1)
        flag = getattr(mt5, "COPY_TICKS_TRADE", COPY_TICKS_TRADE)
        ticks = self._guard(
            mt5.copy_ticks_range,
            name,
            (lo + self._offset).to_pydatetime(),
            (hi + self._offset).to_pydatetime(),
            flag,
        )
        if ticks is None:
            raise SourceUnavailable(SOURCE, f"copy_ticks_range failed for {name}")
        out = []
        for t in ticks:
            price, size = float(t["last"]), float(t["volume_real"] or t["volume"])
            if price > 0 and size > 0:
                when = pd.Timestamp(int(t["time_msc"]), unit="ms", tz="UTC") - self._offset
                out.append(TradePrint(timestamp=when.to_pydatetime(), price=price, size=size))
        return out

    def instruments(self) -> list[InstrumentInfo]:
        """Every symbol the terminal lists, with its contract data."""
        symbols = self._guard(self._terminal().symbols_get)
        if symbols is None:
            raise SourceUnavailable(SOURCE, f"symbols_get failed: {self._last_error()}")
        return [info_row(s) for s in symbols]
