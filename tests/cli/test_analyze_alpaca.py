"""``tradecrew analyze --source alpaca`` against a stand-in Alpaca data server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.data.fake_alpaca_data import STOCK_BARS, FakeAlpacaData, daily_bars
from tradecrew.cli import app

KEY = "PKCLICANARY98765432"
SECRET = "cli-secret-Hr5nW8qZa1"

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("own_provided_instruments")


@pytest.fixture
def server() -> Iterator[FakeAlpacaData]:
    srv = FakeAlpacaData(KEY, SECRET).start()
    srv.bars[("AAPL", "1Day")] = daily_bars(400, datetime(2026, 12, 4, tzinfo=UTC), 150.0)
    srv.bars[("AMD", "1Day")] = daily_bars(400, datetime(2026, 12, 4, tzinfo=UTC), 60.0)
    yield srv
    srv.stop()


@pytest.fixture
def env(server: FakeAlpacaData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    from tradecrew.config import get_settings
    from tradecrew.tools.catalog import provider_for

    values = {
        "TRADECREW_HOME": str(tmp_path / "home"),
        "TRADECREW_DATA__ALPACA_DATA_URL": server.url,
        "APCA_API_KEY_ID": KEY,
        "APCA_API_SECRET_KEY": SECRET,
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    provider_for.cache_clear()
    yield values
    get_settings.cache_clear()
    provider_for.cache_clear()


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradecrew", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_analyze_shows_real_alpaca_bars_and_a_second_run_makes_no_request(
    server: FakeAlpacaData, env: dict[str, str]
) -> None:
    first = run_cli(env, "analyze", "AAPL", "--source", "alpaca", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["source"] == "alpaca" and report["synthetic"] is False
    assert report["last_price"] == server.bars[("AAPL", "1Day")][-1]["c"]
    assert len(server.log) == 1  # the peers (DXY, XAUUSD...) are not Alpaca symbols: no request
    second = run_cli(env, "analyze", "AAPL", "--source", "alpaca", "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["last_price"] == report["last_price"]
    assert len(server.log) == 1  # within the TTL: from the cache on disk


def test_a_symbol_outside_the_catalogue_is_analysed_as_a_us_equity(
    server: FakeAlpacaData, env: dict[str, str]
) -> None:
    result = runner.invoke(app, ["analyze", "AMD", "--source", "alpaca", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["symbol"] == "AMD" and report["synthetic"] is False
    assert report["last_price"] == server.bars[("AMD", "1Day")][-1]["c"]


def test_the_source_can_come_from_the_environment(
    server: FakeAlpacaData, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADECREW_DATA_SOURCE", "alpaca")
    result = runner.invoke(app, ["analyze", "AAPL", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["source"] == "alpaca"
    assert server.requests_to(STOCK_BARS)


def test_an_unreachable_source_fails_with_exit_3_and_no_fallback(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADECREW_DATA__ALPACA_DATA_URL", "http://127.0.0.1:9")
    result = runner.invoke(app, ["analyze", "AAPL", "--source", "alpaca", "--json"])
    assert result.exit_code == 3
    assert result.stdout == ""  # no report from other (synthetic) data
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: alpaca: cannot reach")


def test_a_refused_key_fails_with_exit_3_without_echoing_it(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-the-secret-Xy7")
    result = runner.invoke(app, ["analyze", "AAPL", "--source", "alpaca"])
    assert result.exit_code == 3
    assert "API key was refused" in result.stderr
    assert KEY not in result.output and "not-the-secret-Xy7" not in result.output


@pytest.mark.parametrize("symbol", ["ZZZZ", "XAUUSD"])
def test_an_unknown_symbol_is_bad_input_exit_2(
    server: FakeAlpacaData, env: dict[str, str], symbol: str
) -> None:
    result = runner.invoke(app, ["analyze", symbol, "--source", "alpaca"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: alpaca has no data for symbol")
