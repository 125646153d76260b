"""The desk's account mode comes from the venue, never from a flag, and a live account always
needs a human: a paper label on a real-money endpoint is refused before anything starts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.brokers.fake_alpaca import FakeAlpaca
from tradecrew.brokers import LiveTradingRefused
from tradecrew.brokers.alpaca import AlpacaBroker
from tradecrew.config import BrokerSettings, RiskSettings, Settings
from tradecrew.desk import Desk
from tradecrew.ledger import Ledger
from tradecrew.models import AccountMode, ProposalRequest, ProposalStatus

KEY, SECRET = "PKTESTKEY0123456789", "test-secret-value"


@pytest.fixture
def server() -> Iterator[FakeAlpaca]:
    srv = FakeAlpaca(KEY, SECRET).start()
    srv.quotes["BTC/USD"] = (60_000.0, 60_010.0)
    yield srv
    srv.stop()


@pytest.fixture
def attack_env(tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The configuration of the attack: the real-money endpoint, labelled paper."""
    monkeypatch.setenv("TRADECREW_BROKER__NAME", "alpaca")
    monkeypatch.setenv("TRADECREW_BROKER__ALPACA_BASE_URL", "https://api.alpaca.markets")
    monkeypatch.setenv("TRADECREW_BROKER__AUTO_APPROVE_PAPER", "true")
    monkeypatch.setenv("TRADECREW_BROKER__ALPACA_API_KEY", KEY)
    monkeypatch.setenv("TRADECREW_BROKER__ALPACA_SECRET_KEY", SECRET)


def test_live_endpoint_labelled_paper_refuses_to_start(attack_env: None) -> None:
    with pytest.raises(LiveTradingRefused) as info:
        Desk.from_settings(Settings())
    message = str(info.value)
    assert "https://api.alpaca.markets" in message and "live account" in message
    assert "TRADECREW_BROKER__LIVE_TRADING=true" in message and "--live" in message
    assert "\n" not in message


def test_live_endpoint_with_both_opt_ins_is_live_and_needs_a_human(
    attack_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADECREW_BROKER__LIVE_TRADING", "true")
    desk = Desk.from_settings(Settings(), live=True)
    try:
        assert desk.mode is AccountMode.LIVE
        assert desk.human_approval_required  # auto_approve_paper=true changes nothing here
    finally:
        desk.close()


def _desk(server: FakeAlpaca, tmp_path: Path, *, opted_in: bool) -> Desk:
    settings = Settings(
        home=tmp_path,
        broker=BrokerSettings(
            name="alpaca", auto_approve_paper=True, live_trading=opted_in, alpaca_base_url=None
        ),
        risk=RiskSettings(enforce_market_hours=False),
    )
    broker = AlpacaBroker(
        settings,
        live=opted_in,
        api_key=KEY,
        secret_key=SECRET,
        trading_url=server.url,
        data_url=server.url,
        timeout=2.0,
        backoff=0.01,
    )
    return Desk(Ledger.from_settings(settings), broker, settings)


def test_unknown_endpoint_without_opt_ins_sends_nothing(server: FakeAlpaca, tmp_path: Path) -> None:
    # A local server is not Alpaca's paper endpoint: it counts as live, so the desk never
    # starts, and auto-approval never gets the chance to send anything to it.
    with pytest.raises(LiveTradingRefused):
        _desk(server, tmp_path, opted_in=False)
    assert server.log == []


def test_live_account_never_auto_approves(server: FakeAlpaca, tmp_path: Path) -> None:
    desk = _desk(server, tmp_path, opted_in=True)
    try:
        outcome = desk.propose(ProposalRequest(symbol="BTCUSD", side="buy", quantity=0.01))
        assert outcome.mode is AccountMode.LIVE
        assert outcome.decision is not None and outcome.decision.approved, outcome.reasons
        assert outcome.status is ProposalStatus.PENDING and outcome.requires_human_approval
        assert server.order_posts() == 0
    finally:
        desk.close()


def test_stale_live_quote_is_vetoed(server: FakeAlpaca, tmp_path: Path) -> None:
    server.quote_age = 120.0  # crypto trades around the clock: two minutes is stale
    desk = _desk(server, tmp_path, opted_in=True)
    try:
        outcome = desk.propose(ProposalRequest(symbol="BTCUSD", side="buy", quantity=0.01))
        assert outcome.status is ProposalStatus.VETOED
        assert any("stale quote" in r and "crypto" in r for r in outcome.reasons), outcome.reasons
    finally:
        desk.close()
