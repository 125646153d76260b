"""Gathers what the pure risk engine needs: account, positions, quote, ATR, correlations.

Everything is read from the broker (its positions are the truth), the ledger (orders in
flight, equity history) and the data source; the engine itself does no I/O.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import talib

from tradecrew.config import Settings
from tradecrew.instruments import find_instrument
from tradecrew.models import AssetClass, Proposal, Quote, Timeframe, TradingState
from tradecrew.risk import RiskContext

if TYPE_CHECKING:
    from tradecrew.brokers import Broker
    from tradecrew.ledger import Ledger

ATR_PERIOD = 14
CORRELATION_BARS = 250
_SIMULATED_SOURCES = ("sample", "csv")


def _is_simulated(quote: Quote | None) -> bool:
    """Sample and csv quotes belong to a replayed world with no live clock."""
    return quote is None or quote.source.split(":")[0] in _SIMULATED_SOURCES


def market_open(symbol: str, now: datetime, quote: Quote | None) -> bool | None:
    """Whether the symbol's market trades at ``now``; None when that cannot be known."""
    inst = find_instrument(symbol)
    if inst is None or _is_simulated(quote):
        return None
    if inst.asset_class is AssetClass.CRYPTO:
        return True
    if inst.trades_24h:
        from tradecrew.tools.sessions import active_sessions

        return active_sessions(now).market_open
    from zoneinfo import ZoneInfo

    local = now.astimezone(ZoneInfo("America/New_York"))
    minutes = local.hour * 60 + local.minute
    return local.weekday() < 5 and 9 * 60 + 30 <= minutes < 16 * 60


def _atr(symbol: str, source: str | None) -> float | None:
    from tradecrew.tools.catalog import load_bars

    try:
        bars = load_bars(symbol, Timeframe.D1, source, None, 200)
    except (ValueError, LookupError):
        return None
    if len(bars) <= ATR_PERIOD:
        return None
    atr = talib.ATR(
        bars["high"].to_numpy(), bars["low"].to_numpy(), bars["close"].to_numpy(), ATR_PERIOD
    )
    value = float(atr[-1])
    return value if np.isfinite(value) else None


def _correlations(
    symbol: str, others: list[str], source: str | None, window: int
) -> dict[str, float]:
    from tradecrew.tools.catalog import load_bars
    from tradecrew.tools.correlation import latest_correlation

    out: dict[str, float] = {}
    try:
        base = load_bars(symbol, Timeframe.D1, source, None, CORRELATION_BARS)
    except (ValueError, LookupError):
        return out
    for other in others:
        if other == symbol:
            continue
        try:
            peer = load_bars(other, Timeframe.D1, source, None, CORRELATION_BARS, exact=True)
            value = latest_correlation(base, peer, window)
        except (ValueError, LookupError):
            continue
        if value is not None:
            out[other] = value
    return out


def _blackout(symbol: str, now: datetime, settings: Settings) -> tuple[bool, float]:
    cfg = settings.components.calendar
    if not cfg.enabled:
        return False, 1.0
    from tradecrew.tools.calendar import blackout, default_events

    try:
        check = blackout(
            symbol,
            now,
            default_events(),
            cfg.minutes_before,
            cfg.minutes_after,
            cfg.risk_reduction,
            cfg.action,
        )
    except (ValueError, OSError):
        return False, 1.0
    return check.in_blackout, check.risk_reduction


def _confidence(proposal: Proposal) -> float | None:
    value = proposal.evidence.get("confidence") if proposal.evidence else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def build_context(
    proposal: Proposal,
    *,
    broker: Broker,
    ledger: Ledger,
    settings: Settings,
    now: datetime,
    source: str | None = None,
) -> RiskContext:
    """The risk context for ``proposal`` at ``now``; errors become missing facts, which the
    engine treats as a denial where it matters (no quote, unknown instrument)."""
    account = broker.account()
    positions = broker.positions()
    quote: Quote | None
    try:
        quote = broker.quote(proposal.symbol)
    except Exception:  # any venue failure means "no quote": the engine denies
        quote = None
    prices: dict[str, float] = {}
    for pos in positions:
        if pos.market_price:
            prices[pos.symbol] = pos.market_price
    if quote is not None:
        prices[proposal.symbol] = quote.last
    state = ledger.get_trading_state()
    since = now - timedelta(seconds=60)
    recent = ledger.order_times(broker.name, since)
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first_today, highest = ledger.equity_marks(broker.name, day_start)
    start_of_day = account.start_of_day_equity or first_today
    peak = max(v for v in (highest, account.peak_equity, account.equity) if v is not None)
    in_blackout, reduction = _blackout(proposal.symbol, now, settings)
    held = [p.symbol for p in positions if p.quantity]
    return RiskContext(
        now=now,
        limits=settings.risk,
        account=account,
        positions=positions,
        open_orders=ledger.open_orders(broker=broker.name),
        quote=quote,
        last_price=quote.last if quote is not None else None,
        instrument=find_instrument(proposal.symbol),
        atr=_atr(proposal.symbol, source),
        signal_confidence=_confidence(proposal),
        correlations=_correlations(
            proposal.symbol, held, source, settings.components.correlation.window
        ),
        in_blackout=in_blackout,
        risk_reduction=reduction,
        market_open=market_open(proposal.symbol, now, quote)
        if settings.risk.enforce_market_hours
        else None,
        recent_order_times=recent,
        trading_state=state.state,
        kill_switch=state.state is TradingState.HALTED,
        start_of_day_equity=start_of_day,
        peak_equity=peak,
        prices=prices,
    )
