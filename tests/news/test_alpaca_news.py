"""Alpaca news through the real alpaca-py client against a stand-in news server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.news.fake_alpaca_news import NEWS, FakeAlpacaNews, article
from tradecrew.config import DataSettings, Settings
from tradecrew.data import DataError, SourceUnavailable
from tradecrew.news.alpaca import AlpacaNews

KEY = "PKNEWSCANARY1234567"
SECRET = "news-secret-Zx8cV2bN4m"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[FakeAlpacaNews]:
    srv = FakeAlpacaNews(KEY, SECRET).start()
    srv.news = [article(i, T0 + timedelta(hours=i), ["AAPL"]) for i in range(120)]
    srv.news.append(article(500, T0, ["MSFT"]))
    yield srv
    srv.stop()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make(
    server: FakeAlpacaNews, home: Path, sleep: Sleeps | None = None, **data: object
) -> AlpacaNews:
    settings = Settings(home=home, data=DataSettings(**data))  # type: ignore[arg-type]
    return AlpacaNews(
        settings, api_key=KEY, secret_key=SECRET, url=server.url, backoff=0.01, sleep=sleep
    )


def test_pages_are_followed_until_the_limit_newest_first(
    server: FakeAlpacaNews, tmp_path: Path
) -> None:
    items = make(server, tmp_path).fetch("AAPL", start=T0, limit=110)
    assert len(items) == 110
    assert [h.provider_id for h in items[:2]] == ["24800119", "24800118"]
    assert all(h.symbols == ["AAPL"] and h.provider == "alpaca" for h in items)
    first = items[0]
    served = server.news[119]
    assert first.headline == served["headline"] and first.url == served["url"]
    assert first.published_at == datetime.fromisoformat(served["created_at"])
    pages = server.requests_to(NEWS)
    assert [q["limit"] for q in pages] == ["50", "50", "10"]
    assert "page_token" not in pages[0] and pages[1]["page_token"] and pages[2]["page_token"]
    assert {q["symbols"] for q in pages} == {"AAPL"} and {q["sort"] for q in pages} == {"desc"}


def test_start_and_end_reach_the_server(server: FakeAlpacaNews, tmp_path: Path) -> None:
    end = T0 + timedelta(hours=5)
    items = make(server, tmp_path).fetch("aapl", start=T0 + timedelta(hours=2), end=end)
    assert [h.provider_id for h in items] == [f"248000{n:02d}" for n in (5, 4, 3, 2)]
    query = server.requests_to(NEWS)[0]
    assert datetime.fromisoformat(query["end"]) == end


def test_an_empty_answer_is_no_news_not_an_error(server: FakeAlpacaNews, tmp_path: Path) -> None:
    assert make(server, tmp_path).fetch("NVDA", start=T0) == []


def test_429_waits_as_long_as_retry_after_asks_then_succeeds(
    server: FakeAlpacaNews, tmp_path: Path
) -> None:
    sleeps = Sleeps()
    server.fail_next(2, 429, retry_after="3", path=NEWS)
    items = make(server, tmp_path, sleeps).fetch("AAPL", start=T0, limit=5)
    assert len(items) == 5
    assert sleeps == [3.0, 3.0]


def test_429_on_a_later_page_refetches_only_that_page(
    server: FakeAlpacaNews, tmp_path: Path
) -> None:
    provider = make(server, tmp_path, Sleeps())
    original = server.handle
    calls: list[str | None] = []

    def second_page_limited(raw: str, headers: object) -> tuple[int, bytes, dict[str, str], float]:
        calls.append(parse_qs(urlparse(raw).query).get("page_token", [None])[0])
        if len(calls) == 2:
            body = json.dumps({"code": 42910000, "message": "too many requests"}).encode()
            return 429, body, {"Retry-After": "1"}, 0.0
        return original(raw, headers)

    server.handle = second_page_limited  # type: ignore[method-assign]
    items = provider.fetch("AAPL", start=T0, limit=100)
    assert len(items) == 100
    assert len(calls) == 3  # page 1, page 2 refused, page 2 again: page 1 is not refetched
    assert calls[0] is None and calls[1] is not None and calls[1] == calls[2]


def test_a_retry_after_longer_than_allowed_fails_at_once_naming_it(
    server: FakeAlpacaNews, tmp_path: Path
) -> None:
    sleeps = Sleeps()
    server.fail_next(1, 429, retry_after="600", path=NEWS)
    with pytest.raises(SourceUnavailable, match=r"alpaca: rate limited \(429\).*wait 600 s"):
        make(server, tmp_path, sleeps, max_retry_wait_seconds=30).fetch("AAPL", start=T0)
    assert sleeps == [] and len(server.requests_to(NEWS)) == 1


def test_5xx_is_retried_and_a_lasting_one_is_an_outage(
    server: FakeAlpacaNews, tmp_path: Path
) -> None:
    server.fail_next(1, 502, path=NEWS)
    assert len(make(server, tmp_path, Sleeps()).fetch("AAPL", start=T0, limit=3)) == 3
    server.fail_next(10, 503, path=NEWS)
    with pytest.raises(SourceUnavailable, match=r"server error 503"):
        make(server, tmp_path, Sleeps(), max_attempts=3).fetch("AAPL", start=T0)


@pytest.mark.parametrize(
    "body",
    [
        b"<html>gateway</html>",
        b"{}",
        b'{"news": "none"}',
        b'{"news": [{"id": 1, "created_at": "2026-12-01T00:00:00Z", "symbols": ["AAPL"]}]}',
        b'{"news": [{"id": 1, "headline": "x", "created_at": "yesterday", "symbols": []}]}',
        b'{"news": [{"id": 1, "headline": "x", "created_at": "2026-12-01T00:00:00Z"}]}',
        b'{"news": [17]}',
        b"null",
    ],
)
def test_a_malformed_reply_is_an_outage_naming_alpaca(
    server: FakeAlpacaNews, tmp_path: Path, body: bytes
) -> None:
    server.answer_next(body, path=NEWS)
    with pytest.raises(SourceUnavailable, match=r"^alpaca: malformed reply"):
        make(server, tmp_path).fetch("AAPL", start=T0)


def test_a_server_that_never_stops_paging_does_not_hang_the_desk(
    server: FakeAlpacaNews, tmp_path: Path
) -> None:
    server.endless_tokens = True
    assert make(server, tmp_path).fetch("AAPL", start=T0) == []
    assert len(server.requests_to(NEWS)) == 1


def test_a_repeated_page_token_is_malformed(server: FakeAlpacaNews, tmp_path: Path) -> None:
    page = {"news": [article(1, T0, ["AAPL"])], "next_page_token": "c2FtZQ=="}
    for _ in range(2):
        server.answer_next(json.dumps(page).encode(), path=NEWS)
    with pytest.raises(SourceUnavailable, match="repeated a page token"):
        make(server, tmp_path).fetch("AAPL", start=T0, limit=10)


def test_a_refused_key_is_one_line_and_never_echoes_the_keys(
    server: FakeAlpacaNews, tmp_path: Path
) -> None:
    provider = AlpacaNews(
        Settings(home=tmp_path), api_key=KEY, secret_key="wrong-" + SECRET, url=server.url
    )
    with pytest.raises(SourceUnavailable) as err:
        provider.fetch("AAPL", start=T0)
    text = str(err.value)
    assert "API key was refused (401" in text and "\n" not in text
    assert KEY not in text and SECRET not in text and "***" in text
    assert KEY not in repr(provider)


def test_no_keys_is_an_outage_saying_which_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: FakeAlpacaNews
) -> None:
    monkeypatch.delenv("APCA_API_KEY_ID", raising=False)
    monkeypatch.delenv("APCA_API_SECRET_KEY", raising=False)
    provider = AlpacaNews(Settings(home=tmp_path), url=server.url)
    with pytest.raises(SourceUnavailable, match="APCA_API_KEY_ID"):
        provider.fetch("AAPL", start=T0)
    assert server.log == []


def test_a_wrong_url_is_an_outage_not_an_unknown_symbol(
    server: FakeAlpacaNews, tmp_path: Path
) -> None:
    provider = make(server, tmp_path)
    provider.url = server.url + "/nothing-here"
    provider._client = None
    with pytest.raises(SourceUnavailable, match=r"no news endpoint .*\(404\)"):
        provider.fetch("AAPL", start=T0)


def test_nothing_listens_is_an_outage(tmp_path: Path) -> None:
    provider = AlpacaNews(
        Settings(home=tmp_path), api_key=KEY, secret_key=SECRET, url="http://127.0.0.1:9"
    )
    with pytest.raises(SourceUnavailable, match="cannot reach"):
        provider.fetch("AAPL", start=T0)


def test_keys_are_never_sent_over_plain_http_to_another_host(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="refusing to send Alpaca keys over plain http"):
        AlpacaNews(Settings(home=tmp_path), api_key=KEY, secret_key=SECRET, url="http://news.test")


def test_a_symbol_that_is_not_a_ticker_is_bad_input(server: FakeAlpacaNews, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a ticker"):
        make(server, tmp_path).fetch("AAPL&symbols=MSFT", start=T0)
    assert server.log == []
