"""The stale-quote check is on by default, per asset class, during market hours, for live
quotes; replayed sample and csv quotes have no live clock and are exempt, and say so."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradecrew.config import RiskSettings, Settings
from tradecrew.risk import evaluate

from .factories import NOW, context, proposal, quote


def _price_sanity(decision):  # type: ignore[no-untyped-def]
    return next(c for c in decision.checks if c.name == "price_sanity")


def _aged(symbol: str, price: float, seconds: float, **ctx):  # type: ignore[no-untyped-def]
    old = quote(symbol, price, timestamp=NOW - timedelta(seconds=seconds))
    return context(symbol, price, quote=old, **ctx)


def test_old_live_quote_is_stale_by_default_while_the_market_is_open() -> None:
    d = evaluate(proposal(), _aged("EURUSD", 1.1, 120, market_open=True))
    assert not d.approved
    assert "stale quote: 120.0s old, limit 30s for forex" in _price_sanity(d).reason


def test_hours_unknown_counts_as_open() -> None:
    assert not evaluate(proposal(), _aged("EURUSD", 1.1, 120, market_open=None)).approved


def test_a_closed_markets_last_quote_is_not_stale() -> None:
    p = proposal("AAPL", quantity=10)
    d = evaluate(p, _aged("AAPL", 190.0, 2 * 86_400, market_open=False))
    check = _price_sanity(d)
    assert check.passed and "market closed" in check.reason


@pytest.mark.parametrize(
    ("symbol", "price", "fresh", "stale"),
    [
        ("AAPL", 190.0, 45, 90),
        ("XAUUSD", 2300.0, 20, 40),
        ("BTCUSD", 60_000.0, 20, 40),
    ],
)
def test_limits_differ_by_asset_class(
    symbol: str, price: float, fresh: float, stale: float
) -> None:
    p = proposal(symbol, quantity=1)
    assert _price_sanity(evaluate(p, _aged(symbol, price, fresh, market_open=True))).passed
    assert not _price_sanity(evaluate(p, _aged(symbol, price, stale, market_open=True))).passed


def test_replayed_sample_quotes_are_exempt_and_labelled() -> None:
    ctx = _aged("EURUSD", 1.1, 6 * 365 * 86_400, market_open=True, quote_replayed=True)
    check = _price_sanity(evaluate(proposal(), ctx))
    assert check.passed and "replayed" in check.reason and "no live clock" in check.reason


def test_zero_turns_one_class_off() -> None:
    limits = RiskSettings(max_quote_age_seconds={"forex": 0})
    check = _price_sanity(evaluate(proposal(), _aged("EURUSD", 1.1, 600, limits=limits)))
    assert check.passed and "off for forex" in check.reason


def test_one_number_sets_every_class_and_env_sets_one(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(
        RiskSettings(max_quote_age_seconds=5).max_quote_age_seconds.model_dump().values()
    ) == {5}
    monkeypatch.setenv("TRADECREW_RISK__MAX_QUOTE_AGE_SECONDS__EQUITY", "15")
    ages = Settings().risk.max_quote_age_seconds
    assert (ages.equity, ages.forex) == (15, 30)
