"""``propose`` / ``proposals approve`` / ``positions`` on the paper venue priced by Alpaca.

Each step is its own CLI invocation, and instruments derived from the provider are
forgotten between them, as they are between processes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

import tradecrew.instruments
from tests.data.fake_alpaca_data import STOCK_SNAPSHOTS, FakeAlpacaData
from tradecrew.cli import app

KEY = "PKPROPOSECANARY1234"
SECRET = "propose-secret-Qw8zL3"

runner = CliRunner()


@pytest.fixture
def server() -> Iterator[FakeAlpacaData]:
    srv = FakeAlpacaData(KEY, SECRET).start()
    srv.set_quote("AAPL", bid=189.90, ask=190.10, last=190.00)
    srv.set_quote("AMD", bid=119.95, ask=120.05, last=120.00)
    yield srv
    srv.stop()


@pytest.fixture
def env(server: FakeAlpacaData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from tradecrew.config import get_settings
    from tradecrew.tools.catalog import provider_for

    values = {
        "TRADECREW_HOME": str(tmp_path / "home"),
        "TRADECREW_DATA_SOURCE": "alpaca",
        "TRADECREW_BROKER__NAME": "paper",
        # the wall clock decides whether US stocks trade; this test is about the data path
        "TRADECREW_RISK__ENFORCE_MARKET_HOURS": "false",
        "TRADECREW_DATA__ALPACA_DATA_URL": server.url,
        "APCA_API_KEY_ID": KEY,
        "APCA_API_SECRET_KEY": SECRET,
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(tradecrew.instruments, "_PROVIDED", {})
    get_settings.cache_clear()
    provider_for.cache_clear()
    yield
    get_settings.cache_clear()
    provider_for.cache_clear()


def invoke(*args: str) -> Result:
    """One CLI run in a fresh 'process': nothing a provider served earlier is remembered."""
    tradecrew.instruments._PROVIDED.clear()
    return runner.invoke(app, list(args))


@pytest.mark.parametrize("symbol", ["AAPL", "AMD"])
def test_a_proposal_approved_in_another_run_fills_at_the_served_quote(
    server: FakeAlpacaData, env: None, symbol: str
) -> None:
    proposed = invoke("propose", symbol, "buy", "1", "--json")
    assert proposed.exit_code == 0, proposed.output
    outcome = json.loads(proposed.stdout)
    assert outcome["status"] == "pending", outcome["reasons"]  # risk passed it; a person next
    assert outcome["requires_human_approval"] is True

    approved = invoke("proposals", "approve", outcome["proposal_id"], "--json")
    assert approved.exit_code == 0, approved.output

    listed = invoke("positions", "--json")
    assert listed.exit_code == 0, listed.output
    positions = [p for p in json.loads(listed.stdout) if p["symbol"] == symbol]
    assert len(positions) == 1
    assert positions[0]["quantity"] == 1
    ask = server.snapshots[symbol]["latestQuote"]["ap"]
    # a buy fills at the served ask, moved at most by the venue's slippage (1 bp by default)
    assert positions[0]["average_price"] == pytest.approx(ask, rel=2e-4)


def test_a_ticker_the_provider_does_not_know_is_refused_and_nothing_is_stored(
    server: FakeAlpacaData, env: None
) -> None:
    result = invoke("propose", "ZZZQ", "buy", "1", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown symbol" in lines[0] and "ZZZQ" in lines[0]
    assert server.requests_to(STOCK_SNAPSHOTS)  # the provider was asked
    listed = invoke("proposals", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == []


def test_a_provider_that_is_down_fails_with_exit_3_and_nothing_is_stored(
    env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradecrew.config import get_settings
    from tradecrew.tools.catalog import provider_for

    monkeypatch.setenv("TRADECREW_DATA__ALPACA_DATA_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    provider_for.cache_clear()
    result = invoke("propose", "AMD", "buy", "1", "--json")
    assert result.exit_code == 3, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: alpaca")
    listed = invoke("proposals", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == []


def test_the_sample_source_still_does_not_know_amd_and_asks_no_provider(
    server: FakeAlpacaData, env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradecrew.config import get_settings

    monkeypatch.setenv("TRADECREW_DATA_SOURCE", "sample")
    get_settings.cache_clear()
    result = invoke("propose", "AMD", "buy", "1", "--json")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: unknown symbol 'AMD'")
    assert server.log == []
