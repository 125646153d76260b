"""Desk symbols and Yahoo Finance tickers, both ways, and Yahoo's intervals.

Pure: Yahoo names forex ``EURUSD=X``, gold and oil by their futures (``GC=F``, ``CL=F``),
indices with a caret (``^GSPC``) and crypto ``BTC-USD``; the desk uses ``EURUSD``,
``XAUUSD``, ``SPX`` and ``BTCUSD``. Tickers outside the catalogue pass through unchanged.
"""

from __future__ import annotations

import re

from tradecrew.data.base import UnknownSymbolError
from tradecrew.instruments import find_instrument, normalize_symbol
from tradecrew.models import AssetClass, Timeframe

PROVIDER = "yfinance"

# Desk symbols whose Yahoo ticker is not derived from the asset class.
SPECIAL = {
    "XAUUSD": "GC=F",
    "XAGUSD": "SI=F",
    "WTI": "CL=F",
    "SPX": "^GSPC",
    "NDX": "^NDX",
    "DXY": "DX-Y.NYB",
    "VIX": "^VIX",
}
_DESK_OF = {v: k for k, v in SPECIAL.items()}
_TICKER = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-]{0,14}(=X|=F)?$")
_CRYPTO = re.compile(r"^([A-Z0-9]{2,10})-([A-Z]{3,4})$")
_FX = re.compile(r"^([A-Z]{6})=X$")

# Yahoo's intervals for the desk's timeframes; H4 is built from 1h, W1 and MN1 from days.
INTERVALS = {
    Timeframe.M1: "1m",
    Timeframe.M5: "5m",
    Timeframe.M15: "15m",
    Timeframe.M30: "30m",
    Timeframe.H1: "1h",
    Timeframe.D1: "1d",
}


def to_yahoo(symbol: str) -> tuple[str, str]:
    """Desk symbol and Yahoo ticker (``XAUUSD`` -> ``GC=F``, ``EURUSD`` -> ``EURUSD=X``,
    ``BTCUSD`` -> ``BTC-USD``, ``SPX`` -> ``^GSPC``); Yahoo tickers given as such are kept."""
    text = str(symbol).strip().upper()
    if text in _DESK_OF:
        return _DESK_OF[text], text
    inst = find_instrument(text)
    if inst is not None:
        desk = inst.symbol
        if desk in SPECIAL:
            return desk, SPECIAL[desk]
        if inst.asset_class is AssetClass.FOREX:
            return desk, f"{desk}=X"
        if inst.asset_class is AssetClass.CRYPTO:
            return desk, f"{inst.base_currency}-{inst.quote_currency}"
        return desk, desk
    if "/" in text:  # a pair written the desk's way: SOL/USD
        base, _, quote = text.partition("/")
        text = f"{base}-{quote}"
    if not _TICKER.match(text):
        raise UnknownSymbolError(
            symbol, [], PROVIDER, detail="not a Yahoo ticker (AAPL, EURUSD=X, GC=F, BTC-USD)"
        )
    return from_yahoo(text), text


def from_yahoo(ticker: str) -> str:
    """The desk's symbol for a Yahoo ticker (``GC=F`` -> ``XAUUSD``, ``SOL-USD`` -> ``SOLUSD``)."""
    text = ticker.strip().upper()
    if text in _DESK_OF:
        return _DESK_OF[text]
    if m := _FX.match(text):
        return m.group(1)
    if m := _CRYPTO.match(text):
        return normalize_symbol(m.group(1) + m.group(2))
    return normalize_symbol(text)


def crypto_pair(ticker: str) -> str | None:
    """``BASE/QUOTE`` for a Yahoo crypto ticker (``SOL-USD``), else None."""
    m = _CRYPTO.match(ticker.strip().upper())
    return f"{m.group(1)}/{m.group(2)}" if m else None
