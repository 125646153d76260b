"""The watch's conclusions from one look at a book, without any I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tradecrew.config import RiskSettings
from tradecrew.models import Account, Order, OrderType, Position, Side, TradingState
from tradecrew.risk import RiskContext
from tradecrew.serve.assess import assess, book_exposure, crossed_stops, most_severe

NOW = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)


def _ctx(equity: float, positions: list[Position] | None = None, **kw: Any) -> RiskContext:
    account = Account(account_id="a", broker="paper", cash=equity, equity=equity, buying_power=0)
    return RiskContext(
        now=NOW,
        limits=RiskSettings(max_daily_loss_pct=0.02, max_drawdown_pct=0.1),
        account=account,
        positions=positions or [],
        start_of_day_equity=100_000,
        peak_equity=100_000,
        **kw,
    )


def _look(ctx: RiskContext, **kw: Any) -> list[Any]:
    args: dict[str, Any] = dict(
        book=book_exposure(ctx),
        halt_multiple=2.0,
        overdue_stops={},
        stale={},
        calendar_error=None,
        blackouts={},
    )
    args.update(kw)
    return assess(ctx, **args)


def test_a_quiet_book_finds_nothing() -> None:
    assert _look(_ctx(99_000)) == []


def test_loss_limits_reduce_and_twice_the_limit_halts() -> None:
    (reduce,) = _look(_ctx(97_500))
    assert reduce.target is TradingState.REDUCING and reduce.kind == "daily_loss"
    assert "daily loss 2.50% reached the 2.00% limit" in reduce.reason
    found = _look(_ctx(89_000))
    assert {f.kind for f in found} == {"daily_loss", "drawdown"}
    assert most_severe(found).target is TradingState.HALTED  # type: ignore[union-attr]


def test_exposure_over_a_limit_after_prices_moved_reduces() -> None:
    big = Position(symbol="AAPL", quantity=3000, average_price=50, market_price=100)
    gross, net = _look(_ctx(100_000, [big]))
    assert gross.kind == net.kind == "exposure"
    assert "gross exposure 300,000 USD is above the 250,000 limit" in gross.reason
    assert "net exposure 300,000 USD is above the 150,000 limit" in net.reason


def test_a_position_that_cannot_be_valued_reduces() -> None:
    odd = Position(symbol="NOPE123", quantity=1, average_price=1, market_price=1)
    ctx = _ctx(100_000, [odd])
    assert book_exposure(ctx) is None
    (finding,) = _look(ctx)
    assert finding.kind == "exposure" and "cannot be valued" in finding.reason


def test_a_mark_through_a_working_stop_is_seen_and_only_a_protecting_stop_counts() -> None:
    held = Position(symbol="AAPL", quantity=10, average_price=100, market_price=90)
    stop = Order(
        client_order_id="c1",
        symbol="AAPL",
        side=Side.SELL,
        quantity=10,
        order_type=OrderType.STOP,
        stop_price=93,
        broker="paper",
    )
    entry = stop.model_copy(update={"id": "ord_x", "side": Side.BUY, "client_order_id": "c2"})
    crossed = crossed_stops(_ctx(100_000, [held], open_orders=[stop, entry]))
    assert list(crossed) == [stop.id]
    (finding,) = _look(_ctx(100_000, [held]), overdue_stops=crossed)
    assert finding.kind == "stop" and "through the stop 93" in finding.reason


def test_stale_data_and_an_unreadable_calendar_reduce_and_a_blackout_is_only_told() -> None:
    found = _look(
        _ctx(100_000),
        stale={"EURUSD": 95.0},
        calendar_error="calendar.csv line 3: bad time",
        blackouts={"EURUSD": "in an event blackout: USD Payrolls"},
    )
    by_kind = {f.kind: f for f in found}
    assert by_kind["stale_data"].target is TradingState.REDUCING
    assert "95 s old" in by_kind["stale_data"].reason
    assert by_kind["calendar"].target is TradingState.REDUCING
    assert by_kind["blackout"].target is None
