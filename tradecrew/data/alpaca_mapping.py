"""Translation between Alpaca's market data and the desk's: symbols, timeframes, bars and
snapshots. Pure functions, so the provider only handles transport, caching and batching.
A reply of the wrong shape is an outage of the source (``SourceUnavailable``), never data.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from tradecrew.data.alpaca_transport import PROVIDER
from tradecrew.data.base import (
    COLUMNS,
    BadDataError,
    SourceUnavailable,
    UnknownSymbolError,
    to_utc,
)
from tradecrew.data.validate import validate_bars
from tradecrew.instruments import find_instrument
from tradecrew.models import AssetClass, Quote, Timeframe

_EQUITY = re.compile(r"^[A-Z][A-Z.]{0,5}$")
_COIN = re.compile(r"^[A-Z0-9]{2,10}$")
_SERVES = "alpaca serves US equities, ETFs (AAPL, SPY) and crypto pairs (BTC/USD)"

Resolved = tuple[str, str, AssetClass]  # desk symbol, Alpaca symbol, asset class


def resolve_symbol(symbol: str) -> Resolved:
    """Desk symbol, Alpaca symbol and class; an ``UnknownSymbolError`` for what Alpaca lacks.

    Catalogue equities and crypto map to Alpaca's names (BTCUSD -> BTC/USD); forex, metals
    and indices are refused without a request. Other tickers (AMD) and pairs (SOL/USD) are
    passed through for Alpaca to answer.
    """
    text = str(symbol).strip().upper()
    inst = find_instrument(text)
    if inst is not None:
        if inst.asset_class is AssetClass.CRYPTO:
            return inst.symbol, f"{inst.base_currency}/{inst.quote_currency}", AssetClass.CRYPTO
        if inst.asset_class is AssetClass.EQUITY:
            return inst.symbol, inst.symbol, AssetClass.EQUITY
        raise UnknownSymbolError(
            symbol, [], PROVIDER, detail=f"{inst.symbol} is {inst.asset_class.value}; {_SERVES}"
        )
    base, slash, quote = text.partition("/")
    if slash and _COIN.match(base) and _COIN.match(quote):
        return base + quote, text, AssetClass.CRYPTO
    if not slash and _EQUITY.match(text):
        return text, text, AssetClass.EQUITY
    raise UnknownSymbolError(symbol, [], PROVIDER, detail=_SERVES)


def alpaca_timeframe(tf: Timeframe) -> Any:
    """alpaca-py's TimeFrame for a desk timeframe up to D1 (W1 and MN1 come from D1)."""
    from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

    if tf.minutes < 60:
        return TimeFrame(tf.minutes, TimeFrameUnit.Minute)
    if tf.minutes < 1440:
        return TimeFrame(tf.minutes // 60, TimeFrameUnit.Hour)
    return TimeFrame(1, TimeFrameUnit.Day)


def bars_frame(raw: Any, desk: str, tf: Timeframe) -> pd.DataFrame:
    """Alpaca's bar objects as a validated canonical frame; a malformed reply is an outage."""
    label = f"alpaca {desk} {tf.value}"
    if not isinstance(raw, list):
        raise SourceUnavailable(PROVIDER, f"malformed reply for {desk}: bars are not a list")
    try:
        stamps = np.array([b["t"] for b in raw], dtype=object)
        rows = [[b["o"], b["h"], b["l"], b["c"], b["v"]] for b in raw]
    except (KeyError, TypeError) as exc:
        raise SourceUnavailable(
            PROVIDER, f"malformed reply for {desk}: a bar lacks {exc.args[0]!r}"
        ) from None
    try:
        values = np.array(rows, dtype="float64").reshape(len(rows), len(COLUMNS))
    except (ValueError, TypeError):
        raise SourceUnavailable(
            PROVIDER, f"malformed reply for {desk}: a price is not a number"
        ) from None
    try:
        index = pd.DatetimeIndex(pd.to_datetime(stamps, utc=True, format="ISO8601"))
    except (ValueError, TypeError):
        raise SourceUnavailable(PROVIDER, f"malformed reply for {desk}: bad bar time") from None
    if tf is Timeframe.D1:
        # Alpaca stamps a day at New York (stocks) or Chicago (crypto) midnight; the desk
        # labels days at UTC midnight, as the sample and MetaTrader do.
        index = index.floor("D")
    frame = pd.DataFrame(values, columns=list(COLUMNS), index=index)
    try:
        return validate_bars(frame, label)
    except BadDataError as exc:
        raise SourceUnavailable(PROVIDER, f"served bad data: {exc}") from None


def quote_from_snapshot(desk: str, snap: Any) -> Quote:
    try:
        q = snap.get("latestQuote") or {}
        t = snap.get("latestTrade") or {}
        bid, ask = float(q.get("bp") or 0.0), float(q.get("ap") or 0.0)
        last = float(t.get("p") or 0.0)
        stamps = [s for s in (q.get("t"), t.get("t")) if s]
    except (AttributeError, TypeError, ValueError):
        raise SourceUnavailable(PROVIDER, f"malformed snapshot for {desk}") from None
    if last <= 0 and 0 < bid <= ask:
        last = (bid + ask) / 2.0
    if last <= 0 or not stamps:
        raise SourceUnavailable(PROVIDER, f"the snapshot for {desk} holds no price")
    if not (0 < bid <= ask):
        bid = ask = last  # outside trading hours Alpaca may quote zeros
    try:
        when = max(to_utc(s, "quote time") for s in stamps)
    except Exception:
        raise SourceUnavailable(PROVIDER, f"malformed snapshot time for {desk}") from None
    return Quote(
        symbol=desk,
        bid=bid,
        ask=ask,
        last=last,
        timestamp=when.to_pydatetime(),
        synthetic=False,
        source=PROVIDER,
    )
