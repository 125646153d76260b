"""Factor analysis: a planted factor is found, noise is not, factor values never look ahead,
and the CLI speaks JSON and fails in one line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.research.sample_bars import sample_bars
from tradecrew.cli import app
from tradecrew.research.factors import (
    factor_frame,
    factor_report,
    forward_returns,
    information_coefficient,
)

runner = CliRunner()


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return sample_bars("SPX", 1500)


def _stat(report, name: str, horizon: int):
    factor = next(f for f in report.factors if f.name == name)
    return next(h for h in factor.horizons if h.horizon == horizon)


def test_planted_factor_has_high_ic_and_random_factor_has_none(bars: pd.DataFrame) -> None:
    rng = np.random.default_rng(11)
    fwd5 = forward_returns(bars["close"], 5).to_numpy()
    planted = fwd5 + rng.normal(0.0, np.nanstd(fwd5) * 0.5, len(bars))
    noise = rng.normal(size=len(bars))
    report = factor_report(bars, horizons=(1, 5, 20), extra={"planted": planted, "noise": noise})
    hit = _stat(report, "planted", 5)
    assert hit.ic is not None and hit.ic > 0.8
    assert hit.rank_ic is not None and hit.rank_ic > 0.8
    assert hit.ic_tstat is not None and hit.ic_tstat > 10
    for h in (1, 5, 20):
        miss = _stat(report, "noise", h)
        assert abs(miss.ic) < 0.1 and abs(miss.rank_ic) < 0.1
        assert abs(miss.ic_tstat) < 3.5
    planted_stat = next(f for f in report.factors if f.name == "planted")
    assert planted_stat.kind == "custom"
    assert planted_stat.decay[0] == 1.0 and planted_stat.decay[1] > planted_stat.decay[2]
    # Per regime too: the planted factor is found inside every labelled regime.
    for regime, stats in planted_stat.by_regime.items():
        five = next(s for s in stats if s.horizon == 5)
        if five.ic is not None:
            assert five.ic > 0.7, regime


def test_every_indicator_and_component_is_reported(bars: pd.DataFrame) -> None:
    report = factor_report(bars, horizons=(1, 5))
    names = {f.name for f in report.factors}
    assert {"rsi", "macd_hist", "adx", "bb_pct", "volume_z"} <= names
    assert {"trend_score", "momentum_score", "volume_score", "regime_score"} <= names
    assert set(report.regimes) - {"unknown"}  # causal regime labels were applied
    assert report.horizons == [1, 5]


def test_overlapping_horizons_do_not_inflate_the_tstat() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=2000)
    y = 0.1 * x + rng.normal(size=2000)
    one = information_coefficient(x, y, horizon=1)
    twenty = information_coefficient(x, y, horizon=20)
    assert one.ic == twenty.ic
    assert twenty.ic_tstat == pytest.approx(one.ic_tstat / np.sqrt(20), rel=0.05)


def test_too_few_observations_give_null_not_a_number() -> None:
    stat = information_coefficient(np.arange(10.0), np.arange(10.0))
    assert stat.ic is None and stat.n == 10
    constant = information_coefficient(np.ones(100), np.arange(100.0))
    assert constant.ic is None


def test_factor_values_do_not_look_ahead(bars: pd.DataFrame) -> None:
    full, _ = factor_frame(bars)
    cut = 900
    prefix, _ = factor_frame(bars.iloc[:cut])
    pd.testing.assert_frame_equal(prefix, full.iloc[:cut], rtol=1e-9)


def test_forward_return_is_the_only_look_ahead(bars: pd.DataFrame) -> None:
    fwd = forward_returns(bars["close"], 5)
    assert fwd.iloc[-5:].isna().all()
    assert fwd.iloc[0] == pytest.approx(bars["close"].iloc[5] / bars["close"].iloc[0] - 1)


def test_cli_factors_json(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TRADECREW_HOME", str(tmp_path / "home"))
    result = runner.invoke(app, ["research", "factors", "SPX", "--horizons", "1,5", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["horizons"] == [1, 5]
    rsi = next(f for f in doc["factors"] if f["name"] == "rsi")
    assert {"ic", "rank_ic", "ic_tstat", "rank_ic_tstat", "n", "horizon"} <= set(rsi["horizons"][0])
    assert "by_regime" in rsi and "decay" in rsi


@pytest.mark.parametrize(
    "args",
    [
        ["research", "factors", "SPX", "--horizons", "0"],
        ["research", "factors", "SPX", "--horizons", "a,b"],
        ["research", "factors", "NOSUCHSYMBOL"],
        ["research", "factors", "SPX", "--timeframe", "Q7"],
        ["research", "factors", "SPX", "--horizons", "100000"],
    ],
)
def test_cli_factors_bad_input_is_one_line_exit_2(args: list[str], tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TRADECREW_HOME", str(tmp_path / "home"))
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
