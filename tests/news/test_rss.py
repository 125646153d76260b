"""RSS and Atom feeds through feedparser, served from a local HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.news.fake_feed import FeedServer, Item, atom, rss
from tradecrew.config import DataSettings, NewsSettings, Settings
from tradecrew.data import SourceUnavailable
from tradecrew.news.rss import RssNews

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=2)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer().start()
    srv.pages["/rss/headline"] = rss(
        "Yahoo! Finance: AAPL News",
        [
            Item("Apple beats estimates", "https://finance.example/a1", T0, guid="a1"),
            Item(
                "Apple shares fall",
                "https://finance.example/a2",
                T0 + timedelta(hours=2),
                guid="a2",
                summary="<p>Shares <b>fell</b> 3%</p>",
            ),
            Item("Old news", "https://finance.example/a0", T0 - timedelta(days=30), guid="a0"),
        ],
    )
    srv.pages["/markets.atom"] = atom(
        "Markets wire",
        [
            Item("$AAPL and MSFT lead tech higher", "https://wire.example/1", T0, guid="w1"),
            Item("Oil slips as stocks drift", "https://wire.example/2", T0, guid="w2"),
            Item("SNAPPLE sales rise", "https://wire.example/3", T0, guid="w3"),
            Item("Undated AAPL note", "https://wire.example/4", None, guid="w4"),
        ],
    )
    yield srv
    srv.stop()


def make(
    server: FeedServer, home: Path, feeds: list[str], sleep: Sleeps | None = None, **data: object
) -> RssNews:
    settings = Settings(
        home=home,
        data=DataSettings(**data),  # type: ignore[arg-type]
        news=NewsSettings(rss_feeds=[server.url + f for f in feeds], max_feed_bytes=20_000),
    )
    return RssNews(
        settings, backoff=0.01, sleep=Sleeps() if sleep is None else sleep, clock=lambda: NOW
    )


def test_a_per_symbol_rss_feed_lists_its_items_newest_first(
    server: FeedServer, tmp_path: Path
) -> None:
    provider = make(server, tmp_path, ["/rss/headline?s={symbol}&region=US"])
    items = provider.fetch("aapl", start=T0 - timedelta(days=1))
    assert [h.headline for h in items] == ["Apple shares fall", "Apple beats estimates"]
    first = items[0]
    assert first.provider == "rss" and first.source == "Yahoo! Finance: AAPL News"
    assert first.url == "https://finance.example/a2" and first.symbols == ["AAPL"]
    assert first.published_at == T0 + timedelta(hours=2)
    assert first.summary == "Shares fell 3%"
    assert server.log == ["/rss/headline?s=AAPL&region=US"]


def test_a_general_atom_feed_counts_only_items_that_name_the_symbol(
    server: FeedServer, tmp_path: Path
) -> None:
    items = make(server, tmp_path, ["/markets.atom"]).fetch("AAPL", start=T0 - timedelta(days=1))
    assert [h.headline for h in items] == ["Undated AAPL note", "$AAPL and MSFT lead tech higher"]
    assert items[0].published_at == NOW  # undated: published no later than when it was seen
    assert items[1].provider_id == f"127.0.0.1:{server.url}/w1"  # guids resolve against the feed


def test_start_end_and_limit_apply(server: FeedServer, tmp_path: Path) -> None:
    provider = make(server, tmp_path, ["/rss/headline?s={symbol}"])
    window = provider.fetch("AAPL", start=T0, end=T0 + timedelta(hours=1))
    assert [h.headline for h in window] == ["Apple beats estimates"]
    assert len(provider.fetch("AAPL", start=T0 - timedelta(days=60), limit=2)) == 2


def test_an_empty_feed_is_no_news(server: FeedServer, tmp_path: Path) -> None:
    server.pages["/empty.rss"] = rss("Nothing today", [])
    assert make(server, tmp_path, ["/empty.rss"]).fetch("AAPL", start=T0) == []


def test_429_waits_as_long_as_retry_after_asks(server: FeedServer, tmp_path: Path) -> None:
    sleeps = Sleeps()
    server.fail_next(1, 429, retry_after="2")
    provider = make(server, tmp_path, ["/rss/headline?s={symbol}"], sleeps)
    assert len(provider.fetch("AAPL", start=T0)) == 2
    assert sleeps == [2.0]


def test_a_lasting_429_or_5xx_is_an_outage_naming_the_feed(
    server: FeedServer, tmp_path: Path
) -> None:
    provider = make(server, tmp_path, ["/rss/headline?s={symbol}&token=SECRET1"], max_attempts=2)
    server.fail_next(5, 429, retry_after="1")
    with pytest.raises(SourceUnavailable, match=r"^rss: rate limited \(429\) at http://127") as e:
        provider.fetch("AAPL", start=T0)
    assert "SECRET1" not in str(e.value)  # the query of a feed URL may hold a token
    server.faults.clear()
    server.fail_next(5, 503)
    with pytest.raises(SourceUnavailable, match=r"^rss: server error 503 at"):
        provider.fetch("AAPL", start=T0)


def test_a_missing_feed_is_an_outage(server: FeedServer, tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match=r"feed refused \(404\)"):
        make(server, tmp_path, ["/gone.rss"]).fetch("AAPL", start=T0)


@pytest.mark.parametrize(
    "body", [b"<html><body>Sign in</body></html>", b"\x00\x01 not xml", b"", b'{"news": []}']
)
def test_a_reply_that_is_not_a_feed_is_malformed(
    server: FeedServer, tmp_path: Path, body: bytes
) -> None:
    server.pages["/bad.rss"] = body
    with pytest.raises(SourceUnavailable, match=r"^rss: malformed feed at http://127"):
        make(server, tmp_path, ["/bad.rss"]).fetch("AAPL", start=T0)


def test_an_oversized_feed_is_refused_not_read_into_memory(
    server: FeedServer, tmp_path: Path
) -> None:
    many = [Item(f"AAPL item {i}", f"https://x.example/{i}", T0) for i in range(400)]
    server.pages["/huge.rss"] = rss("Huge", many)
    with pytest.raises(SourceUnavailable, match="larger than 20000 bytes"):
        make(server, tmp_path, ["/huge.rss"]).fetch("AAPL", start=T0)


def test_entity_bombs_and_external_entities_in_a_feed_are_not_expanded(
    server: FeedServer, tmp_path: Path
) -> None:
    levels = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "AAPL">{levels}'
        '<!ENTITY ext SYSTEM "file:///etc/passwd">]>'
        '<rss version="2.0"><channel><title>t</title><item><title>AAPL &l9; &ext;</title>'
        "<link>https://x.example/1</link></item></channel></rss>"
    )
    server.pages["/bomb.rss"] = bomb.encode()
    items = make(server, tmp_path, ["/bomb.rss"]).fetch("AAPL", start=T0)
    assert items and all("root:" not in h.headline and len(h.headline) < 100 for h in items)


def test_no_feeds_configured_is_an_outage_saying_what_to_set(tmp_path: Path) -> None:
    provider = RssNews(Settings(home=tmp_path))
    with pytest.raises(SourceUnavailable, match="TRADECREW_NEWS__RSS_FEEDS"):
        provider.fetch("AAPL", start=T0)


def test_a_feed_url_that_is_not_http_is_bad_input(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, news=NewsSettings(rss_feeds=["file:///etc/passwd"]))
    with pytest.raises(ValueError, match="must be an http"):
        RssNews(settings)


def test_nothing_listens_is_an_outage(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, news=NewsSettings(rss_feeds=["http://127.0.0.1:9/x.rss"]))
    with pytest.raises(SourceUnavailable, match=r"^rss: cannot reach http://127.0.0.1:9/x.rss"):
        RssNews(settings, backoff=0.01).fetch("AAPL", start=T0)
