"""The MT5 broker tests' fake ``MetaTrader5`` module, grown by the market-data calls:
``symbol_info`` with the terminal's full contract record, ``symbols_get``, ``symbol_select``,
``copy_rates_range`` (a NumPy structured array with the terminal's dtype) and
``copy_ticks_range``. Every data call is counted in ``data_calls``."""

from __future__ import annotations

from collections import namedtuple
from datetime import datetime
from typing import Any

import numpy as np

from tests.brokers.fake_mt5 import FakeMT5, Tick

# The fields of MT5's SymbolInfo the desk reads (the real record has about ninety).
FullSymbolInfo = namedtuple(
    "FullSymbolInfo",
    "name description path currency_base currency_profit digits point trade_tick_size "
    "trade_contract_size volume_min volume_max volume_step trade_mode trade_calc_mode "
    "filling_mode visible exchange",
)
RATES_DTYPE = np.dtype(
    [
        ("time", "<i8"),
        ("open", "<f8"),
        ("high", "<f8"),
        ("low", "<f8"),
        ("close", "<f8"),
        ("tick_volume", "<u8"),
        ("spread", "<i4"),
        ("real_volume", "<u8"),
    ]
)
TICKS_DTYPE = np.dtype(
    [
        ("time", "<i8"),
        ("bid", "<f8"),
        ("ask", "<f8"),
        ("last", "<f8"),
        ("volume", "<u8"),
        ("time_msc", "<i8"),
        ("flags", "<u4"),
        ("volume_real", "<f8"),
    ]
)
FULL_SYMBOLS = {
    "XAUUSD": FullSymbolInfo(
        "XAUUSD", "Gold vs US Dollar", "Metals\\XAUUSD", "XAU", "USD", 2, 0.01, 0.01,
        100.0, 0.01, 100.0, 0.01, 4, 2, 3, True, "",
    ),
    "EURUSD": FullSymbolInfo(
        "EURUSD", "Euro vs US Dollar", "Forex\\Majors\\EURUSD", "EUR", "USD", 5, 0.00001,
        0.00001, 100_000.0, 0.01, 500.0, 0.01, 4, 0, 1, True, "",
    ),
    "GER40.cash": FullSymbolInfo(
        "GER40.cash", "Germany 40 Index", "Indices\\GER40.cash", "EUR", "EUR", 1, 0.1, 0.5,
        1.0, 0.1, 100.0, 0.1, 4, 3, 2, False, "",
    ),
    "AMD.NAS": FullSymbolInfo(
        "AMD.NAS", "Advanced Micro Devices", "Stocks\\US\\AMD.NAS", "USD", "USD", 2, 0.01,
        0.01, 1.0, 1.0, 1000.0, 1.0, 1, 32, 2, True, "NASDAQ",
    ),
}  # fmt: skip
MORE_TICKS = {"GER40.cash": (18000.0, 18001.0), "AMD.NAS": (150.0, 150.05)}
TIMEFRAME_CODES = {
    "M1": 1, "M5": 5, "M15": 15, "M30": 30, "H1": 16385, "H4": 16388, "D1": 16408,
    "W1": 32769, "MN1": 49153,
}  # fmt: skip


def rates(n: int, last: datetime, price: float, step_s: int = 86_400) -> np.ndarray:
    """``n`` bars ending with the one opening at ``last`` (server time), as the terminal
    returns them."""
    end = int(last.timestamp())
    out = np.zeros(n, dtype=RATES_DTYPE)
    out["time"] = end - (n - 1 - np.arange(n)) * step_s
    close = price + np.arange(n) * 0.5
    out["open"], out["high"], out["low"], out["close"] = close - 0.2, close + 1, close - 1, close
    out["tick_volume"], out["spread"] = 1200, 20
    return out


class FakeMT5Data(FakeMT5):
    def __init__(self, trade_mode: int = 0) -> None:
        super().__init__(trade_mode)
        self.rates: dict[tuple[str, int], np.ndarray] = {}
        self.trade_ticks: dict[str, np.ndarray] = {}
        self.data_calls: list[tuple[str, Any]] = []
        self.selected: list[str] = []
        for name, code in TIMEFRAME_CODES.items():
            setattr(self, f"TIMEFRAME_{name}", code)
        self.COPY_TICKS_ALL, self.COPY_TICKS_INFO, self.COPY_TICKS_TRADE = -1, 1, 2

    def symbol_info(self, symbol: str) -> Any:
        if self.down:
            return self._fail()
        info = FULL_SYMBOLS.get(symbol)
        if info is None:
            self.error = (-1, "Terminal: Not found")
        return info

    def symbols_get(self, group: str | None = None) -> Any:
        return tuple(FULL_SYMBOLS.values()) if not self.down else self._fail()

    def symbol_select(self, symbol: str, enable: bool = True) -> bool:
        self.selected.append(symbol)
        return symbol in FULL_SYMBOLS

    def symbol_info_tick(self, symbol: str) -> Tick | None:
        self.data_calls.append(("symbol_info_tick", symbol))
        if symbol in MORE_TICKS and not self.down:
            bid, ask = MORE_TICKS[symbol]
            return Tick(1_717_000_000, bid, ask, 0.0, 0, 1_717_000_000_500)
        return super().symbol_info_tick(symbol)

    def copy_rates_range(self, symbol: str, timeframe: int, date_from: Any, date_to: Any) -> Any:
        self.data_calls.append(("copy_rates_range", (symbol, timeframe, date_from)))
        if self.down:
            return self._fail()
        if symbol not in FULL_SYMBOLS:
            self.error = (-2, "Terminal: Invalid params")
            return None
        data = self.rates.get((symbol, timeframe), np.zeros(0, dtype=RATES_DTYPE))
        lo, hi = int(date_from.timestamp()), int(date_to.timestamp())
        return data[(data["time"] >= lo) & (data["time"] <= hi)]

    def copy_ticks_range(self, symbol: str, date_from: Any, date_to: Any, flags: int) -> Any:
        self.data_calls.append(("copy_ticks_range", (symbol, flags)))
        if self.down:
            return self._fail()
        data = self.trade_ticks.get(symbol, np.zeros(0, dtype=TICKS_DTYPE))
        lo, hi = int(date_from.timestamp() * 1000), int(date_to.timestamp() * 1000)
        return data[(data["time_msc"] >= lo) & (data["time_msc"] <= hi)]
