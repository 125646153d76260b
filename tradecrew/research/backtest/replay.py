"""The event-driven replay: the desk's own code, bar by bar.

At each bar's close the strategy's target is read (for ``traditional``/``hybrid`` the live
``fuse`` decides the direction from that bar's component votes); at the next bar's open the
change becomes a proposal, the pure risk engine (``tradecrew.risk.evaluate``, with the given
limits, daily-loss and drawdown trips included) approves, shrinks or denies it, and the
paper venue's matching (``Tape``, ``match``, ``fill_price``) fills what was approved. With
limits that never bind it trades exactly as the kernel does (tested); with the desk's
limits it shows what the desk would really have done.

Assumptions, stated: quantities are fractional (the instrument's step is not applied unless
``fractional=False``); a daily-loss trip is cleared at the next day's first bar (the live
desk needs a person for that); bar volume does not limit fills.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from tradecrew.brokers.paper_crossing import fill_price
from tradecrew.brokers.paper_matching import Tape, match
from tradecrew.config import RiskSettings
from tradecrew.instruments import Instrument, find_instrument
from tradecrew.models import (
    Account,
    AssetClass,
    Bar,
    Direction,
    OrderType,
    Position,
    ProposalRequest,
    Quote,
    Side,
    TradingState,
)
from tradecrew.research.backtest.brackets import Brackets
from tradecrew.research.backtest.costs import Costs
from tradecrew.research.backtest.kernel import Fills, _Book, clean_target
from tradecrew.research.backtest.strategies import Strategy
from tradecrew.risk import RiskContext, evaluate, state_after

_FRACTIONAL_STEP = 1e-9
_SYMBOL = "BACKTEST"


def permissive_limits() -> RiskSettings:
    """Limits that never bind a single-symbol, whole-equity backtest: the replay then trades
    exactly as the kernel does."""
    big = 1e18
    return RiskSettings(
        max_order_notional=big,
        max_position_notional=big,
        max_gross_exposure=big,
        max_net_exposure=big,
        max_currency_exposure=big,
        max_daily_loss_pct=1.0,
        max_drawdown_pct=1.0,
        price_band_pct=1.0,
        max_orders_per_minute=1_000_000,
        enforce_market_hours=False,
        risk_per_trade=1.0,
    )


def _instrument(symbol: str | None, fractional: bool) -> Instrument:
    inst = find_instrument(symbol) if symbol else None
    if inst is None:
        inst = Instrument(
            symbol=symbol or _SYMBOL,
            asset_class=AssetClass.EQUITY,
            base_currency=symbol or _SYMBOL,
            tick_size=0.0001,
        )
    if fractional:
        inst = inst.model_copy(
            update={"min_quantity": _FRACTIONAL_STEP, "quantity_step": _FRACTIONAL_STEP}
        )
    return inst


def live_targets(bars: pd.DataFrame, strat: Strategy, params: Mapping[str, Any]) -> np.ndarray:
    """Targets per bar; for the desk's fused strategies each bar's direction comes from the
    live ``fuse`` on that bar's votes, with the strategy's gates applied bar by bar."""
    levels = getattr(strat, "levels", None)
    if levels is None:
        return clean_target(strat.target(bars, params), len(bars))
    from tradecrew.config import get_settings
    from tradecrew.tools.fusion import ComponentInput, fuse

    frame = levels(bars, params)
    weights = strat.weights(params)  # type: ignore[attr-defined]
    band = float(params.get("threshold", get_settings().fusion.neutral_band))
    short = float(params.get("short", 0.0)) >= 0.5
    names = list(strat.components)  # type: ignore[attr-defined]
    votes = frame[names].to_numpy(dtype=np.float64)
    factor = frame["factor"].to_numpy(dtype=np.float64)
    blocked = frame["blocked"].to_numpy(dtype=bool)
    symbol = str(bars.attrs.get("symbol") or _SYMBOL)
    out = np.zeros(len(bars))
    held = 0.0
    for i in range(len(bars)):
        comps = [
            ComponentInput(name=n, score=float(v)) for n, v in zip(names, votes[i], strict=True)
        ]
        signal = fuse(symbol, comps, weights=weights, neutral_band=band)
        sign = {Direction.LONG: 1.0, Direction.SHORT: -1.0}.get(signal.direction, 0.0)
        want = (sign if short else max(sign, 0.0)) * factor[i]
        if blocked[i] and abs(want) >= abs(held):
            want = held
        out[i] = held = want
    return out


class _Desk:
    """Cash, position and risk state of the replayed account."""

    def __init__(
        self, e0: float, costs: Costs, inst: Instrument, limits: RiskSettings, legs: Brackets
    ) -> None:
        self.book = _Book(e0, costs.commission)
        self.legs = legs
        self.costs, self.inst, self.limits = costs, inst, limits
        self.state = TradingState.ACTIVE
        self.day_start = self.peak = e0
        self.day: object = None
        self.denials: list[str] = []

    def equity(self, price: float) -> float:
        return self.book.cash + self.book.units * price

    def new_bar(self, when: datetime, price: float) -> None:
        eq = self.equity(price)
        if when.date() != self.day:
            self.day, self.day_start = when.date(), eq
            drawdown = 1.0 - eq / self.peak if self.peak > 0 else 0.0
            if self.state is TradingState.REDUCING and drawdown < self.limits.max_drawdown_pct:
                self.state = TradingState.ACTIVE

    def context(self, when: datetime, price: float) -> RiskContext:
        eq = self.equity(price)
        half = price * self.costs.spread / 2.0
        quote = Quote(
            symbol=self.inst.symbol,
            bid=price - half,
            ask=price + half,
            last=price,
            timestamp=when,
            source="backtest",
        )
        positions = []
        if self.book.units:
            positions.append(
                Position(
                    symbol=self.inst.symbol,
                    quantity=self.book.units,
                    average_price=price,
                    market_price=price,
                )
            )
        account = Account(
            account_id="backtest",
            broker="paper",
            cash=self.book.cash,
            equity=eq,
            buying_power=max(eq, 0.0),
            start_of_day_equity=self.day_start,
            peak_equity=self.peak,
            timestamp=when,
        )
        return RiskContext(
            now=when,
            limits=self.limits,
            account=account,
            positions=positions,
            quote=quote,
            last_price=price,
            instrument=self.inst,
            quote_replayed=True,
            trading_state=self.state,
            equity=eq,
            start_of_day_equity=self.day_start,
            peak_equity=self.peak,
        )

    def rebalance(self, i: int, bar: Bar, target: float) -> None:
        """Propose the move to ``target`` at this bar's open; risk decides; the venue fills."""
        p = bar.open
        eq = self.equity(p)
        c = self.costs.commission
        want = 0.0
        if target != 0.0:
            up = target * eq > self.book.units * p
            want = target * eq / (self._price(p, Side.BUY if up else Side.SELL, bar) * (1 + c))
        step = self.inst.quantity_step
        if step > _FRACTIONAL_STEP:  # whole steps only: round the target toward zero
            want = math.copysign(math.floor(abs(want) / step + 1e-9) * step, want)
        delta = want - self.book.units
        if abs(delta) <= 1e-12 * max(1.0, abs(self.book.units)):
            return
        side = Side.BUY if delta > 0 else Side.SELL
        reduce_only = (
            self.book.units != 0.0
            and abs(want) < abs(self.book.units)
            and (want == 0.0 or math.copysign(1.0, want) == math.copysign(1.0, self.book.units))
        )
        levels = (None, None) if reduce_only else self.legs.levels(side, p)
        proposal = ProposalRequest(
            symbol=self.inst.symbol,
            side=side,
            quantity=abs(delta),
            stop_loss=levels[0],
            take_profit=levels[1],
            reduce_only=reduce_only,
            rationale=f"backtest bar {i}",
        )
        ctx = self.context(bar.timestamp, p)
        decision = evaluate(proposal, ctx)
        self.state = state_after(ctx)
        if not decision.approved:
            self.denials.append(f"{bar.timestamp:%Y-%m-%d %H:%M}: {'; '.join(decision.reasons)}")
            return
        quantity = decision.approved_quantity
        execution = match(OrderType.MARKET, side, None, None, False, Tape.from_bar(bar))
        assert execution.price is not None  # a market order always trades at the open
        price = self._price(execution.price, side, bar)
        if abs(delta) - quantity < step:
            quantity = abs(delta)  # the engine's step rounding, not a cap: leave no dust
        self.book.fill(i, side.sign * quantity, price)
        if self.book.units == 0.0:
            self.legs.cancel()
        elif not reduce_only and self.legs.enabled:
            self.legs.open(i, side, levels)

    def protect(self, i: int, bar: Bar) -> None:
        """Let a bracket leg close the position on this bar if the venue says it trades
        (the fractional spread and slippage apply to a stop; tick costs are not added)."""
        hit = self.legs.trade(i, bar) if self.book.units else None
        if hit is not None:
            self.book.fill(i, -self.book.units, hit[0])

    def _price(self, price: float, side: Side, bar: Bar) -> float:
        frac, absolute = self.costs.half_spread_and_slip()
        tape = Tape.from_bar(bar)
        paid = fill_price(price, True, side, tape, False, frac * 10_000.0)
        return paid + side.sign * absolute

    def mark(self, price: float) -> float:
        eq = self.equity(price)
        self.peak = max(self.peak, eq)
        return eq


def _bar(when: datetime, o: float, h: float, lo: float, c: float) -> Bar:
    return Bar(timestamp=when, open=o, high=max(h, o, c), low=min(lo, o, c), close=c)


def replay(
    bars: pd.DataFrame,
    strat: Strategy,
    params: Mapping[str, Any],
    costs: Costs,
    initial_equity: float,
    symbol: str | None,
    *,
    limits: RiskSettings | None = None,
    fractional: bool = True,
    stop_loss: float | None = None,
    take_profit: float | None = None,
) -> tuple[Fills, list[str]]:
    """Replay ``strat`` over ``bars`` through the risk engine and the paper venue's matching.

    ``limits`` default to the desk's configured risk limits (``settings.risk``);
    ``stop_loss``/``take_profit`` (fractions of price) protect every entry with bracket legs
    worked by the paper venue's rules."""
    if limits is None:
        from tradecrew.config import get_settings

        limits = get_settings().risk
    targets = live_targets(bars, strat, params)
    inst = _instrument(symbol, fractional)
    frac, _ = costs.half_spread_and_slip()
    legs = Brackets(stop_loss, take_profit, frac * 10_000.0)
    desk = _Desk(initial_equity, costs, inst, limits, legs)
    o = bars["open"].to_numpy(dtype=np.float64)
    h = bars["high"].to_numpy(dtype=np.float64) if "high" in bars else np.maximum(o, 0)
    lo = bars["low"].to_numpy(dtype=np.float64) if "low" in bars else o
    c = bars["close"].to_numpy(dtype=np.float64)
    times = pd.DatetimeIndex(bars.index).to_pydatetime()
    n = len(bars)
    units = np.zeros(n)
    equity = np.zeros(n)
    current = 0.0
    for i in range(n):
        desk.new_bar(times[i], o[i])
        want = targets[i - 1] if i > 0 else 0.0
        # A proposal goes out when the target changes; an exit that a limit shrank is
        # proposed again at every bar until the position is down to the target.
        bar = None
        if want != current or (want == 0.0 and desk.book.units != 0.0):
            bar = _bar(times[i], o[i], h[i], lo[i], c[i])
            desk.rebalance(i, bar, want)
            current = want
        if legs.live:
            desk.protect(i, bar or _bar(times[i], o[i], h[i], lo[i], c[i]))
        units[i] = desk.book.units
        equity[i] = desk.mark(c[i])
    book = desk.book
    if book.units != 0.0:
        last = Bar(timestamp=times[-1], open=c[-1], high=c[-1], low=c[-1], close=c[-1])
        side = Side.SELL if book.units > 0 else Side.BUY
        book.fill(n - 1, -book.units, desk._price(c[-1], side, last))
        equity[-1] = book.cash
        units[-1] = 0.0
    notes = list(getattr(strat, "notes", []))
    notes += [f"risk engine denied {len(desk.denials)} order(s)"] if desk.denials else []
    notes += [f"denied {d}" for d in desk.denials[:5]] + legs.notes()
    return book.fills(units, equity), notes
