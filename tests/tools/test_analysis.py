"""The full analysis: causal at random cut points, every analyzer present, votes add up."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from tests.tools.front_end import analyze
from tradecrew.config import get_settings
from tradecrew.models import Timeframe
from tradecrew.tools.analysis import analyze_frames
from tradecrew.tools.catalog import AnalyzeQuery, load_bars
from tradecrew.tools.indicators import component_scores
from tradecrew.tools.mtf import mtf_series
from tradecrew.tools.regime import regime_series, warmup_bars


def test_analysis_at_a_cut_point_uses_only_bars_up_to_it(xauusd_d1: pd.DataFrame):
    bars = xauusd_d1.copy()
    bars.attrs["symbol"] = "XAUUSD"
    scores = component_scores(bars)
    regimes = regime_series(bars)
    rng = random.Random(11)
    for t in rng.sample(range(warmup_bars() + 10, len(bars)), 6):
        report = analyze_frames(
            "XAUUSD", bars.iloc[: t + 1], timeframe=Timeframe.D1, settings=get_settings()
        )
        votes = {c.name: c for c in report.signal.components}
        assert votes["trend"].score == pytest.approx(float(scores["trend"].iloc[t]), abs=1e-12)
        assert votes["momentum"].score == pytest.approx(
            float(scores["momentum"].iloc[t]), abs=1e-12
        )
        assert report.regime is not None
        assert report.regime.regime.value == regimes["regime"].iloc[t]
        assert report.timestamp == bars.index[t]
        # later bars changing must not change the answer at t
        tampered = bars.copy()
        tampered.iloc[t + 1 :, :4] *= 3.0
        again = analyze_frames(
            "XAUUSD", tampered.iloc[: t + 1], timeframe=Timeframe.D1, settings=get_settings()
        )
        assert again.signal == report.signal


def test_intraday_multi_timeframe_vote_matches_the_per_bar_series():
    bars = load_bars("EURUSD", Timeframe.M5, "sample", None, 5000)
    series = mtf_series(bars)
    t = len(bars) - 137
    report = analyze_frames(
        "EURUSD", bars.iloc[: t + 1], timeframe=Timeframe.M5, settings=get_settings()
    )
    votes = {c.name: c for c in report.signal.components}
    assert votes["mtf"].score == pytest.approx(float(series.iloc[t]), abs=1e-12)


def test_asof_sees_no_later_bar():
    full = load_bars("SPX", Timeframe.D1, "sample", None, 10**6)
    cut = full.index[-300]
    report = analyze(AnalyzeQuery(symbol="SPX", asof=cut + pd.Timedelta(days=1)))
    assert report.timestamp == cut
    assert report.last_price == pytest.approx(float(full["close"].loc[cut]))


def test_contributions_add_up_to_the_fused_score():
    report = analyze(AnalyzeQuery(symbol="BTCUSD"))
    total = sum(c.contribution for c in report.signal.components)
    assert total == pytest.approx(report.signal.score, abs=1e-9)
    assert {"trend", "momentum", "volume", "regime"} <= {c.name for c in report.signal.components}


def test_headlines_add_a_sentiment_vote():
    report = analyze(
        AnalyzeQuery(
            symbol="XAUUSD", headlines=["Gold miner profit jumps to record", "Shares surge"]
        )
    )
    assert report.sentiment is not None and report.sentiment.n == 2
    assert "sentiment" in {c.name for c in report.signal.components}


def test_disabled_components_are_skipped(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TRADECREW_COMPONENTS__REGIME__ENABLED", "false")
    monkeypatch.setenv("TRADECREW_COMPONENTS__CORRELATION__ENABLED", "false")
    get_settings.cache_clear()
    try:
        report = analyze(AnalyzeQuery(symbol="XAUUSD"))
    finally:
        get_settings.cache_clear()
    assert report.regime is None and report.correlation is None
    assert "regime" not in {c.name for c in report.signal.components}


def test_too_few_bars_is_a_clear_error():
    bars = load_bars("XAUUSD", Timeframe.D1, "sample", None, 5000).iloc[:20]
    with pytest.raises(ValueError, match="bars"):
        analyze_frames("XAUUSD", bars, timeframe=Timeframe.D1, settings=get_settings())


def test_gaps_in_the_bars_are_reported():
    report = analyze(AnalyzeQuery(symbol="SPX"))
    starts = [g.start.date().isoformat() for g in report.data_gaps]
    assert "2001-09-10" in starts  # the market closed after 9/11
    assert any("gap" in n for n in report.notes)
    clean = analyze(AnalyzeQuery(symbol="EURUSD"))
    assert clean.data_gaps == []
