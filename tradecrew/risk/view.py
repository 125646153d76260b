"""OrderView: one proposal seen against one context, with the derived numbers checks share.

Every derived value is computed lazily and only once; when one cannot be computed (no
price, NaN, unknown symbol) it raises, and each check that needs it fails on its own.
"""

from __future__ import annotations

import math
from functools import cached_property

from tradecrew.instruments import Instrument, normalize_symbol
from tradecrew.models import TERMINAL_ORDER_STATUSES, OrderType, ProposalRequest
from tradecrew.risk.context import RiskContext
from tradecrew.risk.exposure import Exposure, UnitValue, exposure, unit_value
from tradecrew.risk.state import reduces_position


def finite_positive(value: float | None, what: str) -> float:
    """``value`` as a float, or ValueError naming ``what`` when missing, NaN, inf or <= 0."""
    if value is None:
        raise ValueError(f"{what} is missing")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{what} is {value!r}, not a finite price above zero")
    return number


class OrderView:
    """The proposal under review and what it means in the context's account currency."""

    def __init__(self, proposal: ProposalRequest, ctx: RiskContext) -> None:
        self.proposal = proposal
        self.ctx = ctx
        self.symbol = normalize_symbol(proposal.symbol)
        self.sign = proposal.side.sign
        self.requested = float(proposal.quantity)

    @cached_property
    def instrument(self) -> Instrument:
        if self.ctx.instrument is None:
            raise LookupError(f"no instrument definition for {self.symbol}")
        return self.ctx.instrument

    @cached_property
    def last_price(self) -> float:
        """The last trade: the context's last price, else the quote's."""
        if self.ctx.last_price is not None:
            return finite_positive(self.ctx.last_price, "last price")
        if self.ctx.quote is not None:
            return finite_positive(self.ctx.quote.last, "quote last")
        raise ValueError(f"no last price or quote for {self.symbol}")

    @cached_property
    def entry_price(self) -> float:
        """Where the order would fill: its limit or stop, else the side of the quote it hits."""
        p = self.proposal
        if p.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            return finite_positive(p.limit_price, "limit price")
        if p.order_type is OrderType.STOP:
            return finite_positive(p.stop_price, "stop price")
        quote = self.ctx.quote
        if quote is not None:
            touch = quote.ask if self.sign > 0 else quote.bid
            return finite_positive(touch, "quote ask" if self.sign > 0 else "quote bid")
        return self.last_price

    @cached_property
    def price_map(self) -> dict[str, float]:
        """Prices for valuation: this symbol at its last price, then the context's prices, then
        each position's own market price. A holding with none of these cannot be valued.
        """
        prices = {
            normalize_symbol(p.symbol): p.market_price
            for p in self.ctx.positions
            if p.market_price is not None
        }
        prices.update(self.ctx.prices)
        prices[self.instrument.symbol] = self.last_price
        return prices

    @cached_property
    def unit(self) -> UnitValue:
        """One unit of this order at its entry price, in the account currency."""
        return unit_value(
            self.instrument,
            self.entry_price,
            self.ctx.account.currency,
            self.price_map,
            self.ctx.fx_fallback,
        )

    @cached_property
    def quote_to_account(self) -> float:
        return self.unit.notional / self.entry_price

    @cached_property
    def position(self) -> float:
        """Units actually held in this symbol (open orders not included)."""
        return sum(
            p.quantity for p in self.ctx.positions if normalize_symbol(p.symbol) == self.symbol
        )

    @cached_property
    def reduces(self) -> bool:
        """True when the order only shrinks the position held (never flips it)."""
        return reduces_position(self.proposal, self.position)

    @cached_property
    def holdings(self) -> dict[str, float]:
        """Worst-case units per symbol: the position plus whichever side of its open orders
        pushes it further from flat, so pending orders cannot hide exposure.
        """
        held: dict[str, float] = {}
        for p in self.ctx.positions:
            key = normalize_symbol(p.symbol)
            held[key] = held.get(key, 0.0) + p.quantity
        buys: dict[str, float] = {}
        sells: dict[str, float] = {}
        for order in self.ctx.open_orders:
            if order.status in TERMINAL_ORDER_STATUSES:
                continue
            key = normalize_symbol(order.symbol)
            book = buys if order.side.sign > 0 else sells
            book[key] = book.get(key, 0.0) + order.remaining_quantity
        for key in buys.keys() | sells.keys():
            base = held.get(key, 0.0)
            long_worst, short_worst = base + buys.get(key, 0.0), base - sells.get(key, 0.0)
            held[key] = long_worst if abs(long_worst) >= abs(short_worst) else short_worst
        return held

    @cached_property
    def book(self) -> Exposure:
        """The worst-case holdings valued in the account currency."""
        return exposure(
            self.holdings, self.price_map, self.ctx.account.currency, self.ctx.fx_fallback
        )

    @cached_property
    def held_units(self) -> float:
        """Worst-case units of this symbol, open orders included."""
        return self.holdings.get(self.symbol, 0.0)
