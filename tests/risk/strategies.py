"""Hypothesis strategies: random but valid proposals against random desks."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tradecrew.config import RiskSettings
from tradecrew.instruments import CATALOGUE
from tradecrew.models import OrderType, Proposal, Side, TradingState
from tradecrew.risk import RiskContext

from .factories import NOW, account, position, quote

SYMBOLS = ["EURUSD", "EURJPY", "USDJPY", "GBPUSD", "XAUUSD", "AAPL", "BTCUSD", "SPX"]


@st.composite
def desks(draw: st.DrawFn, **fixed: Any) -> tuple[Proposal, RiskContext]:
    """A proposal and a context around it; ``fixed`` pins context fields."""
    symbol = draw(st.sampled_from(SYMBOLS))
    inst = CATALOGUE[symbol]
    prices = {s: CATALOGUE[s].typical_price * draw(st.floats(0.8, 1.25)) for s in SYMBOLS}
    price = prices[symbol]
    side = draw(st.sampled_from(list(Side)))
    steps = draw(st.integers(5, 2_000))
    quantity = inst.min_quantity * draw(st.sampled_from([1, 1, 10, 100])) * steps / 10
    order_type = draw(st.sampled_from([OrderType.MARKET, OrderType.LIMIT]))
    limit_price = price * draw(st.floats(0.9, 1.1)) if order_type is OrderType.LIMIT else None
    held = draw(st.lists(st.tuples(st.sampled_from(SYMBOLS), st.integers(-20, 20)), max_size=3))
    held.append((symbol, draw(st.integers(-30, 30))))
    positions = [position(s, CATALOGUE[s].min_quantity * 10 * n, prices[s]) for s, n in held if n]
    equity = draw(st.floats(1_000, 1_000_000))
    limit_fields = {
        "max_order_notional": draw(st.floats(1_000, 1e6)),
        "max_position_notional": draw(st.floats(10_000, 2e6)),
        "max_gross_exposure": draw(st.floats(100_000, 1e7)),
        "max_net_exposure": draw(st.floats(100_000, 1e7)),
        "max_currency_exposure": draw(st.floats(100_000, 1e7)),
        "price_band_pct": draw(st.floats(0.01, 0.2)),
        "max_orders_per_minute": draw(st.integers(1, 10)),
        "min_signal_confidence": draw(st.floats(0, 1)),
        "enforce_market_hours": draw(st.booleans()),
    }
    fields: dict[str, Any] = {
        "now": NOW,
        "limits": RiskSettings(**limit_fields),
        "account": account(
            equity,
            start_of_day_equity=equity * draw(st.floats(0.97, 1.05)),
            peak_equity=equity * draw(st.floats(1.0, 1.15)),
        ),
        "positions": positions,
        "quote": quote(symbol, price, price * draw(st.floats(0, 0.002))),
        "last_price": price,
        "instrument": draw(st.sampled_from([inst, inst, inst, None])),
        "atr": draw(st.none() | st.floats(price * 0.001, price * 0.05)),
        "signal_confidence": draw(st.none() | st.floats(0, 1)),
        "correlations": {s: draw(st.floats(-1, 1)) for s, _ in held},
        "in_blackout": draw(st.booleans()),
        "risk_reduction": draw(st.sampled_from([0.0, 0.25, 0.5, 1.0])),
        "market_open": draw(st.sampled_from([None, True, False])),
        "orders_last_minute": draw(st.integers(0, 10)),
        "trading_state": draw(st.sampled_from(list(TradingState))),
        "kill_switch": draw(st.booleans()),
        "prices": prices,
    }
    fields.update(fixed)
    stop_loss = None
    if draw(st.booleans()):
        stop_loss = price * (1 - side.sign * draw(st.floats(0.001, 0.04)))
    p = Proposal(
        id="prp_prop",
        created_at=NOW,
        symbol=symbol,
        side=side,
        quantity=quantity,
        order_type=order_type,
        limit_price=limit_price,
        stop_loss=stop_loss,
    )
    return p, RiskContext(**fields)
