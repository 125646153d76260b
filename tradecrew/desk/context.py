"""Gathers what the pure risk engine needs: account, positions, quote, ATR, correlations.

Everything is read from the broker (its positions are the truth), the ledger (orders in
flight, equity history) and the data source; the engine itself does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple, TypeVar, cast

import numpy as np
import talib

from tradecrew.config import MAX_CORRELATION_WINDOW, Settings
from tradecrew.instruments import find_instrument
from tradecrew.models import (
    Account,
    AccountMode,
    AssetClass,
    Position,
    Proposal,
    Quote,
    Timeframe,
    TradingState,
)
from tradecrew.risk import RiskContext

if TYPE_CHECKING:
    from tradecrew.brokers import Broker
    from tradecrew.data.calendar_file import CalendarFile
    from tradecrew.ledger import Ledger

T = TypeVar("T")
ATR_PERIOD = 14
# Daily bars of each symbol read for a correlation: at least this many, and twice the window
# (a crypto trades 7 days a week, an index 5, and only shared days count).
CORRELATION_BARS = 250


def correlation_bars(window: int) -> int:
    """Bars to read so that ``window`` returns on shared days exist for any two markets."""
    return max(CORRELATION_BARS, 2 * min(window, MAX_CORRELATION_WINDOW) + 10)


_MAX_FACTS = 512
_SIMULATED_SOURCES = ("sample", "csv")


def _is_simulated(quote: Quote | None) -> bool:
    """Sample and csv quotes belong to a replayed world with no live clock; every other
    source (a broker, a live data provider, one not known here) is live, so its quotes'
    age is checked."""
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


def _atr(symbol: str, source: str) -> float | None:
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


def _correlations(symbol: str, others: list[str], source: str, window: int) -> dict[str, float]:
    from tradecrew.tools.catalog import load_bars
    from tradecrew.tools.correlation import latest_correlation

    out: dict[str, float] = {}
    bars = correlation_bars(window)
    try:
        base = load_bars(symbol, Timeframe.D1, source, None, bars)
    except (ValueError, LookupError):
        return out
    for other in others:
        if other == symbol:
            continue
        try:
            peer = load_bars(other, Timeframe.D1, source, None, bars, exact=True)
            value = latest_correlation(base, peer, window)
        except (ValueError, LookupError):
            continue
        if value is not None:
            out[other] = value
    return out


class MarketFacts:
    """ATR and correlations for risk contexts, each computed at most once per ``ttl`` of the
    desk's clock: both come from daily bars, and a risk check runs on every proposal and again
    at every approval."""

    def __init__(self, source: str, ttl: timedelta = timedelta(seconds=60)) -> None:
        self._source = source
        self._ttl = ttl
        self._kept: dict[tuple[object, ...], tuple[datetime, object]] = {}

    def remember(self, key: tuple[object, ...], now: datetime, compute: Callable[[], T]) -> T:
        """``compute()``, or its value from less than ``ttl`` before ``now``."""
        hit = self._kept.get(key)
        if hit is not None and now < hit[0] and now >= hit[0] - self._ttl:
            return cast(T, hit[1])
        value = compute()
        if len(self._kept) >= _MAX_FACTS:  # a long-running server sees many position sets
            self._kept.clear()
        self._kept[key] = (now + self._ttl, value)
        return value

    def atr(self, symbol: str, now: datetime) -> float | None:
        return self.remember(("atr", symbol), now, lambda: _atr(symbol, self._source))

    def correlations(
        self, symbol: str, others: list[str], window: int, now: datetime
    ) -> dict[str, float]:
        key = ("corr", symbol, tuple(sorted(others)), window)
        found = self.remember(key, now, lambda: _correlations(symbol, others, self._source, window))
        return dict(found)


class _Blackout(NamedTuple):
    in_blackout: bool = False
    factor: float = 1.0
    error: str | None = None  # the enabled calendar could not be read (why)
    synthetic: bool = False
    off: str | None = None  # why no blackout is checked (live, sample calendar only)
    source: str | None = None  # the calendar's source (forex_feed, openbb, file, sample)


SAMPLE_OFF_WITH_LIVE = (
    "event blackout not checked: only the sample calendar (synthetic) is configured and the "
    "account is live; select a live calendar with components.calendar.source "
    "(TRADECREW_COMPONENTS__CALENDAR__SOURCE=forex_feed or openbb), configure a real calendar "
    "file with components.calendar.file "
    "(TRADECREW_COMPONENTS__CALENDAR__FILE=/path/to/calendar.csv), or use the sample anyway "
    "with TRADECREW_COMPONENTS__CALENDAR__SAMPLE_WITH_LIVE=true"
)


def _blackout(
    symbol: str,
    now: datetime,
    settings: Settings,
    live: bool,
    calendar_file: CalendarFile | None = None,
) -> _Blackout:
    """The event blackout for ``symbol``. An enabled calendar that cannot be read is not
    "no events": the engine refuses new risk and says why. A live account never takes its
    blackouts from generated sample events unless the user opted in (``sample_with_live``).
    ``calendar_file``: the desk's reader of the calendar file (None: read it now)."""
    cfg = settings.components.calendar
    if not cfg.enabled:
        return _Blackout()
    from tradecrew.data.calendars import load_calendar
    from tradecrew.errors import Unavailable
    from tradecrew.text import one_line
    from tradecrew.tools.calendar import blackout

    try:
        events = load_calendar(settings, calendar_file=calendar_file)
        if live and not cfg.sample_with_live and events.synthetic:
            events = events.real()
            if not events:
                return _Blackout(synthetic=True, off=SAMPLE_OFF_WITH_LIVE)
        check = blackout(
            symbol,
            now,
            events,
            cfg.minutes_before,
            cfg.minutes_after,
            cfg.risk_reduction,
            cfg.action,
        )
    except (ValueError, OSError, Unavailable) as exc:  # a live calendar's outage too
        return _Blackout(error=one_line(str(exc) or type(exc).__name__, 300))
    return _Blackout(
        check.in_blackout, check.risk_reduction, synthetic=check.synthetic, source=check.source
    )


def _book(broker: Broker) -> tuple[Account, list[Position]]:
    """Account and positions, from one read when the broker offers it (the paper venue)."""
    both = getattr(broker, "account_and_positions", None)
    if callable(both):
        return cast("tuple[Account, list[Position]]", both())
    return broker.account(), broker.positions()


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
    market: MarketFacts | None = None,
    quote: Quote | None = None,
    calendar_file: CalendarFile | None = None,
) -> RiskContext:
    """The risk context for ``proposal`` at ``now`` (``quote``: one the caller just read;
    ``calendar_file``: the desk's reader of the calendar file); errors become missing facts,
    which the engine treats as a denial where it matters (no quote, unknown instrument)."""
    market = market or MarketFacts(source or settings.data_source, ttl=timedelta(0))
    account, positions = _book(broker)
    if quote is None:
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
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    facts = ledger.risk_facts(broker.name, now - timedelta(seconds=60), day_start)
    state = facts.trading_state
    start_of_day = account.start_of_day_equity or facts.first_equity_today
    peak = max(v for v in (facts.peak_equity, account.peak_equity, account.equity) if v is not None)
    live = broker.mode is AccountMode.LIVE
    event = _blackout(proposal.symbol, now, settings, live, calendar_file)
    held = [p.symbol for p in positions if p.quantity]
    return RiskContext(
        now=now,
        limits=settings.risk,
        account=account,
        positions=positions,
        open_orders=facts.open_orders,
        quote=quote,
        last_price=quote.last if quote is not None else None,
        instrument=find_instrument(proposal.symbol),
        atr=market.atr(proposal.symbol, now),
        signal_confidence=_confidence(proposal),
        correlations=market.correlations(
            proposal.symbol, held, settings.components.correlation.window, now
        ),
        in_blackout=event.in_blackout,
        risk_reduction=event.factor,
        calendar_error=event.error,
        calendar_synthetic=event.synthetic,
        calendar_off=event.off,
        calendar_source=event.source,
        # Always the fact: the market-hours check decides whether to enforce it, and the
        # quote-age check needs it either way (a closed market's last quote is not stale).
        market_open=market_open(proposal.symbol, now, quote),
        quote_replayed=quote is not None and _is_simulated(quote),
        orders_last_minute=facts.orders_last_minute,
        trading_state=state.state,
        kill_switch=state.state is TradingState.HALTED,
        start_of_day_equity=start_of_day,
        peak_equity=peak,
        prices=prices,
    )
