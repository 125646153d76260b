"""Seeded, clearly labelled synthetic OHLCV with known market regimes.

The sample provider uses it for symbols without embedded real data, and the regime tests use
its true labels to measure the classifier honestly. Every frame it returns carries
``attrs["synthetic"] = True`` so nothing downstream can mistake it for market data.

Regimes (per-bar volatility ``s`` derived from the instrument's annual volatility):

- ``trending_bull`` / ``trending_bear``: drift of 0.2-0.4 ``s`` per bar, volatility ``s``;
- ``ranging``: mean reversion around the level where the range began, volatility 0.6 ``s``;
- ``volatile``: volatility 2-3 ``s`` without persistent drift.

Returns are Student-t (fat tails) with mild volatility clustering, and intraday bars follow
the forex sessions (Asia quiet, London and New York busier, their overlap busiest).
"""

from __future__ import annotations

import itertools
import zlib
from typing import Literal

import numpy as np
import pandas as pd

from tradecrew.instruments import find_instrument
from tradecrew.models import AssetClass, Regime, Timeframe

Calendar = Literal["24x7", "24x5", "equity"]

SOURCE = "sample:synthetic"
DEFAULT_END = pd.Timestamp("2024-12-31 00:00", tz="UTC")
_REGIMES: tuple[Regime, ...] = (
    Regime.TRENDING_BULL,
    Regime.TRENDING_BEAR,
    Regime.RANGING,
    Regime.VOLATILE,
)
# Equity cash session in UTC (US summer time, which the desk uses all year for simplicity).
_EQUITY_OPEN_MIN = 14 * 60 + 30
_EQUITY_CLOSE_MIN = 21 * 60
# Unknown symbols: a middling, equity-like instrument trading around the clock on weekdays.
_GENERIC_VOL, _GENERIC_PRICE = 0.25, 100.0
# Typical volume of one day, per asset class (ticks for OTC markets, units for exchanges).
_DAILY_VOLUME = {
    AssetClass.FOREX: 120_000.0,
    AssetClass.METAL: 150_000.0,
    AssetClass.INDEX: 2_000_000.0,
    AssetClass.EQUITY: 30_000_000.0,
    AssetClass.CRYPTO: 25_000.0,
    AssetClass.COMMODITY: 400_000.0,
}


def default_seed(symbol: str, timeframe: Timeframe | str) -> int:
    """A seed stable across processes and Python versions (crc32, not the salted hash())."""
    key = f"{symbol.strip().upper()}|{Timeframe.parse(timeframe).value}"
    return zlib.crc32(key.encode("utf-8"))


def generate_bars(
    symbol: str, timeframe: Timeframe, n_bars: int, end: pd.Timestamp, seed: int
) -> pd.DataFrame:
    """Synthetic canonical bars for ``symbol`` ending at ``end``, scaled to its usual price.

    Volatility, price level and trading calendar come from the instrument catalogue; the
    last close lands near ``typical_price`` so the numbers look like the instrument's.
    """
    timeframe = Timeframe.parse(timeframe)
    inst = find_instrument(symbol)
    name = inst.symbol if inst is not None else symbol.strip().upper()
    if not name:
        raise ValueError("symbol must not be empty")
    calendar: Calendar
    if inst is None:
        vol, price, calendar = _GENERIC_VOL, _GENERIC_PRICE, "24x5"
        daily_volume, tick = _DAILY_VOLUME[AssetClass.EQUITY] / 10, 0.01
        session_scale = 1.0
    else:
        vol, price, tick = inst.annual_volatility, inst.typical_price, inst.tick_size
        calendar = _calendar_for(inst.asset_class, inst.trades_24h)
        daily_volume = _DAILY_VOLUME[inst.asset_class]
        session_scale = 0.4 if inst.asset_class is AssetClass.CRYPTO else 1.0
    bars, _ = generate_regime_path(
        n_bars,
        seed,
        timeframe=timeframe,
        annual_volatility=vol,
        start_price=price,
        end=end,
        calendar=calendar,
        daily_volume=daily_volume,
        session_strength=session_scale,
        symbol=name,
    )
    # Rescale so the series ends near today's typical level; returns are unchanged.
    anchor = price * float(np.exp(np.random.default_rng(seed).normal(0.0, 0.05)))
    prices = bars[["open", "high", "low", "close"]].to_numpy() * (anchor / bars["close"].iat[-1])
    decimals = round(-np.log10(tick)) if tick > 0 else 0
    if np.isclose(tick, 10.0**-decimals) and anchor / tick > 1_000:
        # Rounding is monotone, so low <= open, close <= high still holds afterwards.
        prices = np.maximum(np.round(prices, decimals), tick)
    bars[["open", "high", "low", "close"]] = prices
    bars.attrs = {"symbol": name, "synthetic": True, "source": SOURCE}
    return bars


def generate_regime_path(
    n_bars: int,
    seed: int,
    timeframe: Timeframe = Timeframe.D1,
    annual_volatility: float = 0.15,
    start_price: float = 100.0,
    *,
    end: pd.Timestamp | None = None,
    calendar: Calendar = "24x5",
    durations: tuple[int, int] = (60, 300),
    daily_volume: float = 100_000.0,
    session_strength: float = 1.0,
    symbol: str = "SYNTH",
) -> tuple[pd.DataFrame, pd.Series]:
    """Synthetic bars plus the true regime of every bar (``Regime`` values as strings).

    Regime lengths are uniform in ``durations`` (bars) and each switch goes to one of the
    other three regimes at random, so every label is known exactly for scoring classifiers.
    """
    _check_args(n_bars, annual_volatility, start_price, durations, daily_volume)
    timeframe = Timeframe.parse(timeframe)
    rng = np.random.default_rng(seed)
    index = bar_index(timeframe, n_bars, DEFAULT_END if end is None else end, calendar)
    codes, drift, vol_mult, reversion = _regime_plan(n_bars, durations, rng)

    sigma = annual_volatility / np.sqrt(_bars_per_year(timeframe, calendar))
    session = _session_profile(index, timeframe, calendar, session_strength)
    # Slow log-volatility clustering (AR(1), stationary sd 0.15) on top of the regime level.
    cluster = _ar1(rng.normal(0.0, 0.15 * np.sqrt(1 - 0.97**2), n_bars), 0.97)
    bar_sigma = sigma * vol_mult * session * np.exp(cluster)
    shocks = rng.standard_t(5, n_bars) * np.sqrt(3.0 / 5.0)  # unit-variance fat tails

    log_close = _log_path(np.log(start_price), codes, drift * sigma, bar_sigma * shocks, reversion)
    close = np.exp(log_close)
    prev_close = np.concatenate(([start_price], close[:-1]))
    gap_sd = 0.3 if calendar == "equity" and timeframe.minutes >= Timeframe.D1.minutes else 0.05
    open_ = prev_close * np.exp(rng.normal(0.0, gap_sd * sigma, n_bars))
    # Intrabar excursions scale with the bar's volatility, like a Brownian bridge's extremes.
    up = np.abs(rng.normal(0.0, 0.6, n_bars)) * bar_sigma
    down = np.abs(rng.normal(0.0, 0.6, n_bars)) * bar_sigma
    high = np.maximum(open_, close) * np.exp(up)
    low = np.minimum(open_, close) * np.exp(-down)

    bars_per_day = max(_bars_per_day(timeframe, calendar), 1e-9)
    activity = (vol_mult * np.exp(cluster)) ** 0.8 * session**1.5
    noise = rng.lognormal(-0.125, 0.5, n_bars)
    volume = np.round(daily_volume / bars_per_day * activity * noise) + 1.0

    bars = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume},
        index=index,
        dtype="float64",
    )
    bars.attrs = {"symbol": symbol, "synthetic": True, "source": SOURCE}
    labels = pd.Series(
        np.array([r.value for r in _REGIMES], dtype=object)[codes], index=index, name="regime"
    )
    return bars, labels


def bar_index(
    timeframe: Timeframe, n_bars: int, end: pd.Timestamp, calendar: Calendar = "24x5"
) -> pd.DatetimeIndex:
    """The last ``n_bars`` grid times at or before ``end`` that the calendar trades.

    ``24x7`` trades always, ``24x5`` skips Saturdays and Sundays (UTC), ``equity`` keeps
    business days and, intraday, only bars starting within 14:30-21:00 UTC. A naive
    ``end`` is read as UTC.
    """
    if n_bars < 1:
        raise ValueError(f"n_bars must be at least 1, got {n_bars}")
    end = pd.Timestamp(end)
    end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
    if timeframe is Timeframe.W1:
        last = (end - pd.Timedelta(days=end.dayofweek)).normalize()  # Monday of the week
        index = pd.date_range(end=last, periods=n_bars, freq="7D")
    elif timeframe is Timeframe.MN1:
        last = end.normalize().replace(day=1)
        index = pd.date_range(end=last, periods=n_bars, freq="MS")
    else:
        step = pd.Timedelta(minutes=timeframe.minutes)
        last = end.floor(step)
        factor = 1.0 if calendar == "24x7" else 1.5
        if calendar == "equity" and timeframe is not Timeframe.D1:
            factor = 1.5 * 1440 / 390 * 1.1
        while True:
            candidates = pd.date_range(end=last, periods=int(n_bars * factor) + 16, freq=step)
            kept = candidates[_trades(candidates, timeframe, calendar)]
            if len(kept) >= n_bars:
                index = kept[-n_bars:]
                break
            factor *= 2
    index = pd.DatetimeIndex(index, name="timestamp").as_unit("ns")
    return index


def _check_args(
    n_bars: int,
    annual_volatility: float,
    start_price: float,
    durations: tuple[int, int],
    daily_volume: float,
) -> None:
    if not isinstance(n_bars, int | np.integer) or n_bars < 1:
        raise ValueError(f"n_bars must be a positive integer, got {n_bars!r}")
    if not np.isfinite(annual_volatility) or not 0 < annual_volatility < 5:
        raise ValueError(f"annual_volatility must be in (0, 5), got {annual_volatility}")
    if not np.isfinite(start_price) or start_price <= 0:
        raise ValueError(f"start_price must be a positive number, got {start_price}")
    lo, hi = durations
    if lo < 1 or hi < lo:
        raise ValueError(f"durations must satisfy 1 <= min <= max, got {durations}")
    if not np.isfinite(daily_volume) or daily_volume <= 0:
        raise ValueError(f"daily_volume must be positive, got {daily_volume}")


def _calendar_for(asset_class: AssetClass, trades_24h: bool) -> Calendar:
    if asset_class is AssetClass.CRYPTO:
        return "24x7"
    return "24x5" if trades_24h else "equity"


def _trades(times: pd.DatetimeIndex, timeframe: Timeframe, calendar: Calendar) -> np.ndarray:
    if calendar == "24x7":
        return np.ones(len(times), dtype=bool)
    weekday = np.asarray(times.dayofweek) < 5
    if calendar == "24x5" or timeframe is Timeframe.D1:
        return weekday
    minute = np.asarray(times.hour) * 60 + np.asarray(times.minute)
    return weekday & (minute >= _EQUITY_OPEN_MIN) & (minute < _EQUITY_CLOSE_MIN)


def _bars_per_day(timeframe: Timeframe, calendar: Calendar) -> float:
    """Bars in one trading day (fractions for W1 and MN1)."""
    if timeframe is Timeframe.W1:
        return 1 / (7 if calendar == "24x7" else 5)
    if timeframe is Timeframe.MN1:
        return 1 / (30.4 if calendar == "24x7" else 21)
    if timeframe is Timeframe.D1:
        return 1.0
    if calendar == "equity":
        starts = np.arange(0, 1440, timeframe.minutes)
        return float(np.sum((starts >= _EQUITY_OPEN_MIN) & (starts < _EQUITY_CLOSE_MIN)))
    return 1440 / timeframe.minutes


def _bars_per_year(timeframe: Timeframe, calendar: Calendar) -> float:
    days = 365.0 if calendar == "24x7" else 252.0
    return days * _bars_per_day(timeframe, calendar)


def _session_profile(
    index: pd.DatetimeIndex, timeframe: Timeframe, calendar: Calendar, strength: float
) -> np.ndarray:
    """Per-bar activity multiplier (mean square 1 over a day) from the trading sessions."""
    if timeframe.minutes >= Timeframe.D1.minutes or strength <= 0:
        return np.ones(len(index))
    hours = np.arange(24)
    if calendar == "equity":
        # U-shape of the cash session: busy open and close, quiet lunch.
        mid = (_EQUITY_OPEN_MIN + _EQUITY_CLOSE_MIN) / 2 / 60
        curve = 0.8 + 0.6 * ((hours + 0.5 - mid) / 3.25) ** 2
    else:
        curve = np.full(24, 0.5)  # late New York / Sydney
        curve[0:7] = 0.6  # Tokyo
        curve[7:12] = 1.1  # London
        curve[12:16] = 1.5  # London-New York overlap
        curve[16:21] = 1.0  # New York afternoon
    curve = 1.0 + strength * (curve - 1.0)
    mask = _trades(pd.DatetimeIndex(index[:0]).append(_day_grid(timeframe)), timeframe, calendar)
    day_hours = np.asarray(_day_grid(timeframe).hour)[mask]
    curve = curve / np.sqrt(np.mean(curve[day_hours] ** 2))
    return curve[np.asarray(index.hour)]


def _day_grid(timeframe: Timeframe) -> pd.DatetimeIndex:
    # A Monday, so the weekday filter keeps every bar of the session.
    start = pd.Timestamp("2024-01-01", tz="UTC")
    return pd.date_range(start, periods=1440 // timeframe.minutes, freq=f"{timeframe.minutes}min")


def _regime_plan(
    n_bars: int, durations: tuple[int, int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Regime code, drift (in units of sigma), volatility multiple and reversion per bar."""
    codes = np.empty(n_bars, dtype=np.int64)
    drift = np.zeros(n_bars)
    vol = np.ones(n_bars)
    reversion = np.zeros(n_bars)
    pos, code = 0, int(rng.integers(4))
    while pos < n_bars:
        length = int(rng.integers(durations[0], durations[1] + 1))
        seg = slice(pos, min(pos + length, n_bars))
        codes[seg] = code
        regime = _REGIMES[code]
        if regime is Regime.TRENDING_BULL or regime is Regime.TRENDING_BEAR:
            sign = 1.0 if regime is Regime.TRENDING_BULL else -1.0
            drift[seg] = sign * rng.uniform(0.2, 0.4)
            vol[seg] = rng.uniform(0.9, 1.1)
        elif regime is Regime.RANGING:
            vol[seg] = rng.uniform(0.5, 0.7)
            reversion[seg] = rng.uniform(0.05, 0.15)
        else:
            vol[seg] = rng.uniform(2.0, 3.0)
        pos += length
        code = int((code + rng.integers(1, 4)) % 4)  # always a different regime
    return codes, drift, vol, reversion


def _log_path(
    start: float, codes: np.ndarray, drift: np.ndarray, noise: np.ndarray, reversion: np.ndarray
) -> np.ndarray:
    """Log closes: drifting random walks, and mean reversion to the range's opening level."""
    steps = drift + noise
    out = np.empty(len(codes))
    level = start
    starts = np.flatnonzero(np.diff(codes, prepend=-1) != 0)
    bounds = [*starts.tolist(), len(codes)]
    for a, b in itertools.pairwise(bounds):
        if reversion[a] > 0:
            # Ornstein-Uhlenbeck around the level at which the range began.
            out[a:b] = level + _ar1(steps[a:b], 1.0 - reversion[a], start=0.0)
        else:
            out[a:b] = level + np.cumsum(steps[a:b])
        level = out[b - 1]
    return out


def _ar1(innovations: np.ndarray, phi: float, start: float = 0.0) -> np.ndarray:
    """x[t] = phi * x[t-1] + e[t] with x[-1] = start.

    A plain loop over floats: a few thousand steps take well under a millisecond, while
    importing scipy.signal for its linear filter costs seconds at start-up.
    """
    out = np.empty(len(innovations))
    x = start
    for i, e in enumerate(innovations.tolist()):
        x = phi * x + e
        out[i] = x
    return out
