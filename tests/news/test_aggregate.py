"""Per-symbol sentiment over time: point in time, deduplicated, recency- and source-weighted;
the crew's run records it and the fusion's sentiment component votes with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.news.helpers import deterministic_crew_home
from tests.news.helpers import spx_headline as _news
from tradecrew.config import NewsSettings, Settings
from tradecrew.news import HeadlineStore
from tradecrew.news.aggregate import story_key, symbol_sentiment
from tradecrew.tools.sentiment_aggregate import ScoredHeadline, aggregate_sentiment

ASOF = datetime(2018, 6, 1, 20, 0, tzinfo=UTC)


def scored(story: str, score: float, hours_ago: float, source: str = "wire") -> ScoredHeadline:
    return ScoredHeadline(
        story=story, score=score, published_at=ASOF - timedelta(hours=hours_ago), source=source
    )


def test_only_headlines_published_before_asof_count() -> None:
    agg = aggregate_sentiment([scored("a", 0.5, 2), scored("b", -1.0, -1), scored("c", 1, 0)], ASOF)
    assert (agg.n, agg.score) == (1, pytest.approx(0.5))
    assert agg.latest == ASOF - timedelta(hours=2)


def test_one_story_from_several_sources_counts_once() -> None:
    items = [
        scored("gold hits record", 0.8, 5, "reuters"),
        scored("gold hits record", 0.8, 4, "bloomberg"),
        scored("gold hits record", 0.8, 3, "blog"),
        scored("gold miners slump", -0.6, 5, "reuters"),
    ]
    agg = aggregate_sentiment(items, ASOF)
    assert (agg.n, agg.duplicates) == (2, 2)
    assert agg.score == pytest.approx(0.1)  # (0.8 - 0.6) / 2: the repeats add nothing


def test_recency_halves_a_headlines_weight_every_half_life() -> None:
    items = [scored("new", 1.0, 0.001), scored("old", -1.0, 24)]
    agg = aggregate_sentiment(items, ASOF, half_life_hours=24)
    assert agg.score == pytest.approx((1.0 - 0.5) / 1.5, abs=1e-4)
    assert agg.effective_n == pytest.approx(1.5**2 / 1.25, abs=1e-3)
    assert aggregate_sentiment(items, ASOF, half_life_hours=1).score > 0.99
    assert aggregate_sentiment(items, ASOF, window_hours=12).n == 1


def test_sources_weigh_as_configured() -> None:
    items = [scored("up", 1.0, 1, "Trusted"), scored("down", -1.0, 1, "rumours")]
    assert aggregate_sentiment(items, ASOF).score == pytest.approx(0.0)
    agg = aggregate_sentiment(items, ASOF, source_weights={"trusted": 3.0, "Rumours": 0.0})
    assert (agg.score, agg.n) == (pytest.approx(1.0), 1)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        aggregate_sentiment([], datetime(2018, 6, 1))
    with pytest.raises(ValueError, match="half_life"):
        aggregate_sentiment([], ASOF, half_life_hours=0)
    with pytest.raises(ValueError):
        NewsSettings(source_weights={"x": -1.0})
    assert aggregate_sentiment([], ASOF).n == 0


def test_a_publishers_byline_does_not_make_a_new_story() -> None:
    assert story_key("Gold hits record high - Reuters") == story_key("Gold hits record high")
    assert story_key("Gold hits record high | Bloomberg") == "gold hits record high"


def test_the_news_layer_feeds_the_stored_headlines(tmp_path: Path) -> None:
    HeadlineStore(tmp_path / "news.db").add(
        [
            _news(
                1, ASOF - timedelta(hours=3), "Stocks surge as earnings beat estimates - Reuters"
            ),
            _news(
                2,
                ASOF - timedelta(hours=2),
                "Stocks surge as earnings beat estimates",
                "other",
                "rss",
            ),
            _news(3, ASOF - timedelta(hours=30), "Stocks slump on weak guidance"),
            _news(4, ASOF + timedelta(hours=1), "Stocks crash after the close"),
        ]
    )
    settings = Settings(home=tmp_path)
    agg = symbol_sentiment("SPX", ASOF, settings)
    assert (agg.n, agg.duplicates) == (2, 1)
    assert agg.latest == ASOF - timedelta(hours=3)  # the story's first report
    assert agg.score > 0  # the fresh good news outweighs the day-old bad news
    assert symbol_sentiment("SPX", ASOF - timedelta(days=30), settings).n == 0
    assert symbol_sentiment("SPX", ASOF, Settings(home=tmp_path / "none")).n == 0


@pytest.fixture
def home(tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return deterministic_crew_home(tradecrew_home, monkeypatch)


def test_a_crew_run_records_the_aggregate_and_the_fusion_votes_with_it(home: Path) -> None:
    from tests.tools.front_end import analyze
    from tradecrew.agents import replay, run_crew
    from tradecrew.tools.catalog import AnalyzeQuery

    HeadlineStore(home / "news.db").add(
        [
            _news(i, ASOF - timedelta(hours=i), f"Stocks surge to record high day {i}")
            for i in (1, 2)
        ]
    )
    result = run_crew(["SPX"], asof=ASOF, dry_run=True, remember=False)
    agg = result.inputs.news_sentiment["SPX"]
    assert agg.n == 2 and agg.score > 0
    query = AnalyzeQuery(symbol="SPX", timeframe="D1", asof=ASOF)
    votes = {c.name: c for c in analyze(query, None, agg).signal.components}
    assert "stored news: 2 stories" in votes["sentiment"].detail
    assert "sentiment" not in {c.name for c in analyze(query).signal.components}
    again = replay(result.run_id)
    assert again.inputs.news_sentiment == result.inputs.news_sentiment


def test_the_crews_analysts_read_the_aggregate() -> None:
    """Every task's desk data carries the aggregate the run recorded (symbol_run passes it)."""
    from tests.tools.front_end import analyze
    from tradecrew.agents.crew import SymbolContext, analysis_digest
    from tradecrew.agents.deterministic import deterministic_decision
    from tradecrew.tools.catalog import AnalyzeQuery

    settings = Settings()
    agg = aggregate_sentiment([scored("up", 0.7, 1)], ASOF)
    analysis = analyze(AnalyzeQuery(symbol="SPX", timeframe="D1", asof=ASOF), settings, agg)
    base = deterministic_decision(analysis, equity=100_000, settings=settings)
    ctx = SymbolContext("SPX", "D1", analysis, base, [], ASOF, [], news_sentiment=agg)
    digest = analysis_digest(ctx, settings)
    assert digest["news_over_time"]["n"] == 1 and digest["signal"]["components"]["sentiment"] > 0
    plain = SymbolContext("SPX", "D1", analysis, base, [], ASOF, [])
    assert "news_over_time" not in analysis_digest(plain, settings)
