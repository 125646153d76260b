"""Headlines are untrusted text: cleaned when they arrive, whatever a source sends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from tradecrew.news.models import Headline, news_symbol


def make(**kw: object) -> Headline:
    data: dict[str, object] = {
        "provider": "rss",
        "source": "feed",
        "headline": "Apple beats",
        "published_at": datetime(2026, 12, 1, tzinfo=UTC),
    }
    data.update(kw)
    return Headline.model_validate(data)


def test_terminal_escapes_and_control_characters_are_removed() -> None:
    h = make(
        headline="Apple \x1b[2J\x1b]0;pwned\x07beats\r\nestimates\u202e\x00", source="\x1b[31mX"
    )
    # Whole sequences go, so their parameters ("[2J", the window title) leave no debris.
    assert h.headline == "Apple beats estimates"
    assert "\x1b" not in h.source and h.source == "X"


def test_only_http_links_are_kept() -> None:
    assert make(url="javascript:alert(1)").url is None
    assert make(url="file:///etc/passwd").url is None
    assert make(url="https://ex.com/a\nb").url is None
    assert make(url=" https://ex.com/a ").url == "https://ex.com/a"


def test_a_blank_headline_is_refused_and_long_text_is_cut() -> None:
    with pytest.raises(ValidationError):
        make(headline=" \x1b \n")
    assert len(make(headline="x" * 10_000).headline) == 500


def test_symbol_tags_that_are_not_tickers_are_dropped() -> None:
    assert make(symbols=["aapl", "BTC/USD", "AAPL", "<script>", ""]).symbols == ["AAPL", "BTCUSD"]


def test_naive_times_are_utc() -> None:
    assert make(published_at=datetime(2026, 12, 1, 9)).published_at.tzinfo is UTC


@pytest.mark.parametrize("bad", ["", "AAPL MSFT", "A" * 20, "../x", "AAPL&x=1"])
def test_a_symbol_must_be_a_ticker(bad: str) -> None:
    with pytest.raises(ValueError, match="not a ticker"):
        news_symbol(bad)
