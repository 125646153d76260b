"""Position maths from fills: averaging, reductions, flips and realized P&L."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradecrew.ledger import positions_from_fills
from tradecrew.models import Fill, Side

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _fill(
    side: Side,
    qty: float,
    price: float,
    n: int = 0,
    symbol: str = "XAUUSD",
    commission: float = 0.0,
) -> Fill:
    return Fill(
        order_id="ord_x",
        client_order_id="c",
        symbol=symbol,
        side=side,
        quantity=qty,
        price=price,
        commission=commission,
        timestamp=T0 + timedelta(seconds=n),
    )


def test_adding_to_a_long_averages_the_price() -> None:
    (pos,) = positions_from_fills([_fill(Side.BUY, 10, 100), _fill(Side.BUY, 10, 110)])
    assert pos.quantity == 20
    assert pos.average_price == pytest.approx(105)
    assert pos.realized_pnl == 0


def test_selling_through_zero_flips_short_at_the_fill_price_and_realizes_pnl() -> None:
    fills = [_fill(Side.BUY, 10, 100), _fill(Side.BUY, 10, 110), _fill(Side.SELL, 25, 120)]
    (pos,) = positions_from_fills(fills)
    assert pos.quantity == pytest.approx(-5)
    assert pos.average_price == pytest.approx(120)
    # 20 units bought at 105 on average, sold at 120.
    assert pos.realized_pnl == pytest.approx(20 * (120 - 105))


def test_reducing_keeps_the_average_price() -> None:
    (pos,) = positions_from_fills([_fill(Side.SELL, 10, 50), _fill(Side.BUY, 4, 40)])
    assert pos.quantity == pytest.approx(-6)
    assert pos.average_price == pytest.approx(50)
    assert pos.realized_pnl == pytest.approx(4 * (50 - 40))


def test_closing_exactly_leaves_a_flat_position_only_on_request() -> None:
    fills = [_fill(Side.BUY, 3, 10), _fill(Side.SELL, 3, 12, commission=0.5)]
    assert positions_from_fills(fills) == []
    (flat,) = positions_from_fills(fills, include_flat=True)
    assert flat.quantity == 0 and flat.average_price == 0
    assert flat.realized_pnl == pytest.approx(3 * 2 - 0.5)


def test_marks_give_unrealized_pnl_per_symbol() -> None:
    fills = [_fill(Side.BUY, 2, 100, symbol="GOOG"), _fill(Side.SELL, 1, 1.1, symbol="EURUSD")]
    by_symbol = {p.symbol: p for p in positions_from_fills(fills, marks={"GOOG": 103.0})}
    assert by_symbol["GOOG"].unrealized_pnl == pytest.approx(6.0)
    assert by_symbol["GOOG"].market_price == 103.0
    assert by_symbol["EURUSD"].market_price is None
    assert by_symbol["EURUSD"].unrealized_pnl == 0.0


trade = st.tuples(
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(min_value=1, max_value=50),
    st.integers(min_value=1, max_value=500),
    st.sampled_from([0.0, 0.25, 1.0]),
)


@settings(max_examples=200, deadline=None)
@given(trades=st.lists(trade, min_size=1, max_size=30), mark=st.integers(1, 500))
def test_realized_plus_unrealized_equals_cash_flow_pnl(
    trades: list[tuple[Side, int, int, float]], mark: int
) -> None:
    fills = [_fill(s, q, p, n, commission=c) for n, (s, q, p, c) in enumerate(trades)]
    (pos,) = positions_from_fills(fills, marks={"XAUUSD": float(mark)}, include_flat=True)
    net_qty = sum(s.sign * q for s, q, _, _ in trades)
    cash = sum(-s.sign * q * p - c for s, q, p, c in trades)
    assert pos.quantity == pytest.approx(net_qty)
    assert pos.realized_pnl + pos.unrealized_pnl == pytest.approx(
        cash + net_qty * mark, rel=1e-9, abs=1e-6
    )
    if net_qty == 0:
        assert pos.average_price == 0.0
    else:
        assert (
            min(p for _, _, p, _ in trades) <= pos.average_price <= max(p for _, _, p, _ in trades)
        )
