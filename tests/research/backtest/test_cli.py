"""``tradecrew backtest`` as a user runs it: JSON contract, costs shown, report, bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.conftest import shared_file
from tests.research.backtest.helpers import RESULT_FIELDS, TRADE_FIELDS
from tradecrew.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["backtest", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def goog_source() -> str:
    return f"csv:{shared_file('GOOG_D1.csv')}"


def test_json_result_with_overridden_costs(goog_source):
    out = run(
        "GOOG",
        "--source",
        goog_source,
        "--param",
        "fast=10",
        "--param",
        "slow=30",
        "--commission",
        "0.001",
        "--spread",
        "0",
        "--slippage",
        "0",
        "--json",
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    for key in RESULT_FIELDS:
        assert key in payload
    assert payload["costs"]["commission"] == 0.001 and payload["costs"]["spread"] == 0.0
    trade = payload["trade_list"][0]
    assert set(trade) >= TRADE_FIELDS
    assert trade["pnl"] == pytest.approx(
        trade["quantity"] * (trade["exit_price"] * 0.999 - trade["entry_price"] * 1.001)
    )
    assert "commission 10.00 bps/side" in out.stderr


def test_defaults_come_from_the_instrument_and_are_printed(goog_source):
    out = run(
        "XAUUSD",
        "--source",
        f"csv:{shared_file('XAUUSD_D1_mt5.csv')}",
        "--from",
        "2015-01-01",
        "--to",
        "2016-12-31",
    )
    assert out.exit_code == 0, out.output
    assert "costs: commission 0.50 bps/side, spread 1.00 bps" in out.stdout
    assert "instrument catalogue (XAUUSD)" in out.stdout
    assert "2015-01-02 .. 2016-12-30" in out.stdout  # the first and last trading days


def test_report_holds_the_three_strategies_and_the_targets(tmp_path, goog_source):
    path = tmp_path / "out.html"
    out = run("GOOG", "--source", goog_source, "--report", str(path))
    assert out.exit_code == 0, out.output
    html = path.read_text()
    for name in (
        "sma_cross(fast=10, slow=30)",
        "buy_hold",
        "traditional",
        "hybrid",
        "Sharpe &gt; 1.5",
        "not met",
        "data:image/png;base64",
    ):
        assert name in html, name


@pytest.mark.parametrize(
    "args",
    [
        ["--strategy", "nope"],
        ["--param", "fast=30", "--param", "slow=10"],
        ["--param", "fast"],
        ["--param", "x=1"],
        ["--from", "2030-01-01"],
        ["--from", "yesterday-ish"],
        ["--from", "2010-01-01", "--to", "2009-01-01"],
        ["--commission", "-0.1"],
        ["--engine", "warp"],
        ["--report", "out.pdf"],
        ["--stop-loss", "0.02"],
        ["--engine", "replay", "--stop-loss", "1.5"],
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(goog_source, args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = run("GOOG", "--source", goog_source, *args)
    assert out.exit_code == 2, out.output
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert "Traceback" not in out.output


def test_the_replay_with_brackets_from_the_command_line(goog_source):
    out = run(
        "GOOG",
        "--source",
        goog_source,
        "--engine",
        "replay",
        "--stop-loss",
        "0.03",
        "--take-profit",
        "0.08",
        "--json",
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload["engine"] == "replay"
    assert any(n.startswith("bracket exits:") for n in payload["notes"])
