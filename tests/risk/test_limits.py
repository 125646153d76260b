"""Size limits shrink, exposure adds up across symbols and currencies, loss limits trip."""

from __future__ import annotations

import math

import pytest

from tradecrew.models import Order, OrderStatus, Side, TradingState
from tradecrew.risk import evaluate, required_state, state_after

from .factories import account, context, limits, position, proposal


def _check(decision, name):
    return next(c for c in decision.checks if c.name == name)


def test_oversized_order_is_shrunk_to_the_notional_cap() -> None:
    # 20,000 USD at 190 a share is 105.26 shares: 105 whole shares (76,000 asked: 3.8x).
    d = evaluate(
        proposal("AAPL", quantity=400),
        context("AAPL", 190.0, limits=limits(max_order_notional=20_000)),
    )
    assert d.approved
    assert d.approved_quantity == 105
    assert _check(d, "max_order_notional").max_quantity == pytest.approx(20_000 / 190)


def test_order_notional_of_a_yen_cross_is_valued_in_dollars() -> None:
    # 100,000 EURJPY at 160 is 16,000,000 JPY = 106,667 USD at USDJPY 150.
    ctx = context(
        "EURJPY", 160.0, prices={"USDJPY": 150.0}, limits=limits(max_order_notional=50_000)
    )
    d = evaluate(proposal("EURJPY", quantity=100_000), ctx)
    assert d.approved
    assert _check(d, "max_order_notional").max_quantity == pytest.approx(50_000 / (160 / 150))
    assert d.approved_quantity == 46_000


def test_position_cap_counts_what_is_already_held() -> None:
    # Long 60,000 EUR at 1.25 (75,000 USD); the 100,000 cap leaves 25,000 USD = 20,000 EUR.
    ctx = context(
        "EURUSD",
        1.25,
        positions=[position("EURUSD", 60_000, 1.25)],
        limits=limits(max_position_notional=100_000),
    )
    d = evaluate(proposal(quantity=50_000), ctx)
    assert d.approved
    assert d.approved_quantity == 20_000


def test_position_units_cap_shrinks_per_symbol() -> None:
    ctx = context(
        "XAUUSD",
        2300.0,
        positions=[position("XAUUSD", 3.0, 2300.0)],
        limits=limits(max_position_units={"XAUUSD": 5.0}),
    )
    d = evaluate(proposal("XAUUSD", quantity=4.0), ctx)
    assert d.approved
    assert d.approved_quantity == pytest.approx(2.0)
    assert "units" in _check(d, "max_position").reason


def test_open_orders_count_towards_the_position_cap() -> None:
    pending = Order(
        client_order_id="c1",
        symbol="EURUSD",
        side=Side.BUY,
        quantity=50_000,
        status=OrderStatus.ACCEPTED,
    )
    done = Order(
        client_order_id="c2",
        symbol="EURUSD",
        side=Side.BUY,
        quantity=500_000,
        status=OrderStatus.FILLED,
        filled_quantity=500_000,
    )
    lim = limits(max_position_notional=100_000)
    free = evaluate(proposal(quantity=80_000), context("EURUSD", 1.0, limits=lim))
    busy = evaluate(
        proposal(quantity=80_000), context("EURUSD", 1.0, limits=lim, open_orders=[pending, done])
    )
    assert free.approved_quantity == 80_000
    assert busy.approved_quantity == 50_000


def test_position_over_its_cap_can_still_be_closed() -> None:
    ctx = context(
        "EURUSD",
        1.0,
        positions=[position("EURUSD", 300_000, 1.0)],
        limits=limits(
            max_position_notional=100_000,
            max_gross_exposure=100_000,
            max_net_exposure=100_000,
            max_currency_exposure=100_000,
        ),
    )
    d = evaluate(proposal(side="sell", quantity=300_000), ctx)
    assert d.approved, d.reasons
    assert d.approved_quantity == 300_000


def test_gross_exposure_counts_both_long_and_short_books() -> None:
    # Long 100k USD of AAPL and short 100k USD of MSFT: gross 200k, net 0.
    ctx = context(
        "GOOG",
        100.0,
        positions=[position("AAPL", 500, 200.0), position("MSFT", -250, 400.0)],
        prices={"AAPL": 200.0, "MSFT": 400.0},
        limits=limits(max_gross_exposure=230_000),
    )
    d = evaluate(proposal("GOOG", quantity=1_000), ctx)
    assert d.approved
    assert d.approved_quantity == 300
    assert _check(d, "net_exposure").max_quantity is None


def test_net_exposure_lets_a_hedge_through_and_caps_more_of_the_same() -> None:
    ctx = context(
        "GOOG",
        100.0,
        positions=[position("AAPL", 500, 200.0)],
        prices={"AAPL": 200.0},
        limits=limits(max_net_exposure=120_000),
    )
    more = evaluate(proposal("GOOG", quantity=1_000), ctx)
    hedge = evaluate(proposal("GOOG", side="sell", quantity=1_000), ctx)
    assert more.approved_quantity == 200
    assert hedge.approved_quantity == 1_000


def test_eur_exposure_adds_up_across_eurusd_and_eurjpy() -> None:
    # Long 100k EURUSD at 1.10 is +110,000 USD of EUR; each EURJPY unit at 160 with USDJPY
    # at 150 adds 160/150 USD of EUR. The 150,000 limit leaves 40,000 -> 37,500 EUR.
    prices = {"EURUSD": 1.10, "USDJPY": 150.0}
    lim = limits(max_currency_exposure=150_000)
    alone = evaluate(
        proposal("EURJPY", quantity=100_000), context("EURJPY", 160.0, prices=prices, limits=lim)
    )
    ctx = context(
        "EURJPY", 160.0, prices=prices, limits=lim, positions=[position("EURUSD", 100_000, 1.10)]
    )
    stacked = evaluate(proposal("EURJPY", quantity=100_000), ctx)
    assert alone.approved_quantity == 100_000
    assert stacked.approved
    assert stacked.approved_quantity == 37_000
    check = _check(stacked, "currency_exposure")
    assert check.max_quantity == pytest.approx(40_000 / (160 / 150))
    assert check.reason.startswith("EUR exposure")


def test_selling_a_euro_cross_reduces_eur_exposure_past_the_limit() -> None:
    # EUR is at 220,000 of 180,000; the sale takes it to 60,000 and JPY to +160,000.
    ctx = context(
        "EURJPY",
        160.0,
        prices={"EURUSD": 1.10, "USDJPY": 150.0},
        limits=limits(max_currency_exposure=180_000),
        positions=[position("EURUSD", 200_000, 1.10)],
    )
    d = evaluate(proposal("EURJPY", side="sell", quantity=150_000), ctx)
    assert d.approved, d.reasons
    assert d.approved_quantity == 150_000


def test_gold_counts_against_the_xau_leg() -> None:
    # 60 oz held at 2,000 is 120,000 USD of XAU; the 150,000 limit leaves 15 oz.
    ctx = context(
        "XAUUSD",
        2000.0,
        positions=[position("XAUUSD", 60, 2000.0)],
        limits=limits(max_currency_exposure=150_000),
    )
    d = evaluate(proposal("XAUUSD", quantity=40), ctx)
    assert d.approved_quantity == pytest.approx(15.0)
    assert _check(d, "currency_exposure").reason.startswith("XAU exposure")


def test_account_currency_is_not_limited_as_a_foreign_exposure() -> None:
    ctx = context("AAPL", 100.0, limits=limits(max_currency_exposure=1_000))
    d = evaluate(proposal("AAPL", quantity=100), ctx)
    assert d.approved_quantity == 100
    assert "no exposure outside USD" in _check(d, "currency_exposure").reason


def test_missing_fx_price_uses_the_typical_rate_and_says_so() -> None:
    ctx = context("EURJPY", 160.0, limits=limits(max_order_notional=1_000_000))
    d = evaluate(proposal("EURJPY", quantity=10_000), ctx)
    assert d.approved
    assert "typical" in _check(d, "currency_exposure").reason


def test_missing_fx_price_denies_when_the_fallback_is_off() -> None:
    d = evaluate(proposal("EURJPY", quantity=10_000), context("EURJPY", 160.0, fx_fallback="deny"))
    assert not d.approved
    assert any("FxUnavailable" in r and "JPY" in r for r in d.reasons)


def test_position_without_a_price_denies_rather_than_counting_zero() -> None:
    held = position("AAPL", 100, 200.0).model_copy(update={"market_price": None})
    d = evaluate(proposal(), context(positions=[held]))
    assert not d.approved
    assert any("no price to value the holding of AAPL" in r for r in d.reasons)


def test_daily_loss_breach_denies_new_risk_and_requires_reducing() -> None:
    ctx = context(account=account(96_000.0, start_of_day_equity=100_000.0, peak_equity=100_000.0))
    d = evaluate(proposal(), ctx)
    assert not d.approved
    assert "must switch to reducing" in _check(d, "daily_loss").reason
    assert required_state(ctx) is TradingState.REDUCING
    assert state_after(ctx) is TradingState.REDUCING
    assert d.trading_state is TradingState.REDUCING


def test_daily_loss_breach_still_lets_a_reduction_through() -> None:
    ctx = context(
        account=account(96_000.0, start_of_day_equity=100_000.0, peak_equity=100_000.0),
        positions=[position("EURUSD", 50_000, 1.1)],
    )
    d = evaluate(proposal(side="sell", quantity=20_000), ctx)
    assert d.approved, d.reasons
    assert d.trading_state is TradingState.REDUCING


def test_drawdown_from_peak_trips_even_on_a_flat_day() -> None:
    ctx = context(account=account(89_000.0, start_of_day_equity=89_000.0, peak_equity=100_000.0))
    d = evaluate(proposal(), ctx)
    assert not _check(d, "drawdown").passed
    assert _check(d, "daily_loss").passed
    assert state_after(ctx) is TradingState.REDUCING


def test_losses_within_limits_keep_the_desk_active() -> None:
    ctx = context(account=account(98_000.0, start_of_day_equity=100_000.0, peak_equity=105_000.0))
    assert required_state(ctx) is None
    assert evaluate(proposal(), ctx).approved


def test_trip_never_de_escalates_a_halted_desk() -> None:
    ctx = context(
        trading_state=TradingState.HALTED, account=account(50_000.0, start_of_day_equity=100_000.0)
    )
    assert state_after(ctx) is TradingState.HALTED
    assert required_state(context(kill_switch=True)) is TradingState.HALTED


def test_unknown_start_of_day_equity_is_reported_not_assumed() -> None:
    ctx = context(account=account(start_of_day_equity=None))
    d = evaluate(proposal(), ctx)
    assert d.approved
    assert "not measured" in _check(d, "daily_loss").reason


@pytest.mark.parametrize("equity", [math.nan, math.inf, 0.0])
def test_nonsense_equity_denies_without_tripping_the_desk(equity: float) -> None:
    ctx = context(equity=equity)
    d = evaluate(proposal(), ctx)
    assert not d.approved
    assert state_after(ctx) is TradingState.ACTIVE


def test_atr_sizing_caps_units_at_the_risk_budget() -> None:
    # 1% of 100,000 over 2 x 0.005 = 100,000 EUR; at 0.0125 ATR it is 40,000 EUR.
    ctx = context(atr=0.0125, limits=limits(risk_per_trade=0.01, atr_stop_multiple=2.0))
    d = evaluate(proposal(quantity=100_000), ctx)
    assert d.approved
    assert _check(d, "sizing").max_quantity == pytest.approx(40_000)
    assert d.approved_quantity == 40_000


def test_stop_loss_distance_takes_precedence_over_atr() -> None:
    # A stop 0.02 below entry risks 0.02 USD per EUR: 1,000 / 0.02 = 50,000 EUR.
    ctx = context(atr=0.0001)
    d = evaluate(proposal(quantity=80_000, stop_loss=1.08), ctx)
    assert _check(d, "sizing").max_quantity == pytest.approx(50_000)
    assert d.approved_quantity == 50_000


def test_sizing_converts_the_stop_distance_into_the_account_currency() -> None:
    # USDJPY at 150, stop 1.5 yen away: 1.5 JPY = 0.01 USD per unit -> 100,000 units.
    ctx = context("USDJPY", 150.0)
    d = evaluate(proposal("USDJPY", quantity=500_000, stop_loss=148.5), ctx)
    assert _check(d, "sizing").max_quantity == pytest.approx(100_000)


def test_unit_cap_configured_by_alias_still_binds() -> None:
    ctx = context("XAUUSD", 2300.0, limits=limits(max_position_units={"gold": 1.5}))
    assert evaluate(proposal("XAUUSD", quantity=4.0), ctx).approved_quantity == pytest.approx(1.5)


def test_positions_are_valued_at_their_own_market_price_when_no_price_is_passed() -> None:
    # 500 AAPL marked at 200 is 100,000 of the 150,000 gross limit: 500 GOOG at 100 fit.
    ctx = context(
        "GOOG",
        100.0,
        positions=[position("AAPL", 500, 200.0)],
        limits=limits(max_gross_exposure=150_000),
    )
    assert evaluate(proposal("GOOG", quantity=2_000), ctx).approved_quantity == 500


def test_drawdown_without_a_recorded_peak_measures_from_the_day_start() -> None:
    ctx = context(
        account=account(88_000.0, start_of_day_equity=100_000.0, peak_equity=None),
        limits=limits(max_daily_loss_pct=0.5),
    )
    d = evaluate(proposal(), ctx)
    assert not _check(d, "drawdown").passed
    assert "12.00%" in _check(d, "drawdown").reason


def test_the_tightest_unit_limit_naming_an_instrument_holds() -> None:
    # Settings merge aliases already; a limits object built without validation (or an alias
    # the catalogue learns later) must still not let the first, looser key win.
    from tradecrew.config import RiskSettings
    from tradecrew.risk.limits import unit_limit_for

    loose_first = RiskSettings.model_construct(max_position_units={"XAUUSD": 5.0, "GOLD": 1.0})
    assert unit_limit_for(loose_first, "XAUUSD") == 1.0
    with_nan = RiskSettings.model_construct(max_position_units={"XAUUSD": 5.0, "GOLD": math.nan})
    assert math.isnan(unit_limit_for(with_nan, "XAUUSD"))
