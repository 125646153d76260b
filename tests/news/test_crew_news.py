"""A crew run reads the symbol's stored news published before its ``asof``, and records it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.news.helpers import deterministic_crew_home
from tests.news.helpers import spx_headline as news
from tradecrew.news import HeadlineStore

ASOF = datetime(2018, 6, 1, 20, 0, tzinfo=UTC)


@pytest.fixture
def home(tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return deterministic_crew_home(tradecrew_home, monkeypatch)


def test_a_run_reads_only_news_published_before_its_asof(home: Path) -> None:
    from tradecrew.agents import run_crew

    HeadlineStore(home / "news.db").add(
        [
            news(1, ASOF - timedelta(days=1), "Stocks surge as earnings beat estimates"),
            news(2, ASOF + timedelta(hours=1), "Stocks crash after the close"),
            news(3, ASOF - timedelta(days=30), "A month-old story"),
        ]
    )
    result = run_crew(["SPX"], asof=ASOF, dry_run=True, remember=False)
    assert result.inputs.headlines == {"SPX": ["Stocks surge as earnings beat estimates"]}
    [outcome] = result.outcomes
    assert outcome.status == "ok", outcome.message
    assert "News: 1 headlines" in outcome.report


def test_headlines_given_to_a_run_win_over_the_store(home: Path) -> None:
    from tradecrew.agents import run_crew

    HeadlineStore(home / "news.db").add([news(1, ASOF - timedelta(days=1), "Stored story")])
    result = run_crew(
        ["SPX"], asof=ASOF, dry_run=True, remember=False, headlines={"SPX": ["Given story"]}
    )
    assert result.inputs.headlines == {"SPX": ["Given story"]}


def test_no_store_means_no_headlines(home: Path) -> None:
    from tradecrew.agents import run_crew

    result = run_crew(["SPX"], asof=ASOF, dry_run=True, remember=False)
    assert result.inputs.headlines == {}
    assert not (home / "news.db").exists()
