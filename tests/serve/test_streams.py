"""The daemon streams the watchlist's quotes when its data source is Alpaca: each quote
updates data age between refreshes; no keys or another source means no stream, no failure."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.data.fake_alpaca_stream import KEY, SECRET, FakeAlpacaStream
from tradecrew.brokers.paper import PaperBroker
from tradecrew.config import Settings
from tradecrew.desk import Desk
from tradecrew.ledger import Ledger
from tradecrew.models import utcnow
from tradecrew.serve.quotes import QuoteBook
from tradecrew.serve.streams import close_streams, markets, open_streams


def _desk(home: Path, source: str, stream_url: str, **serve: Any) -> Desk:
    home.mkdir(mode=0o700, parents=True)
    settings = Settings(
        home=home,
        data_source=source,
        data={"alpaca_stream_url": stream_url},
        serve={"crew": {}, **serve},
    )
    broker = PaperBroker(home / "p.db", source="sample", settings=settings.broker)
    return Desk(Ledger(f"sqlite:///{home / 'l.db'}"), broker, settings, source=source)


@pytest.fixture
def server() -> Any:
    srv = FakeAlpacaStream(["stream"]).start()
    yield srv
    srv.stop()


def test_stocks_and_crypto_go_to_their_own_endpoints() -> None:
    assert markets(["AAPL", "BTCUSD", "MSFT"]) == {"stocks": ["AAPL", "MSFT"], "crypto": ["BTCUSD"]}


def test_streamed_quotes_keep_the_quote_book_fresh(
    tmp_path: Path, server: FakeAlpacaStream, monkeypatch: pytest.MonkeyPatch, log: Any
) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", KEY)
    monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET)
    desk = _desk(tmp_path / "home", "alpaca", server.url)
    book = QuoteBook()
    streams = open_streams(desk, book, ["AAPL"], log)
    try:
        assert len(streams) == 1
        deadline = time.monotonic() + 5
        while book.seen("AAPL") is None and time.monotonic() < deadline:
            time.sleep(0.02)
        seen = book.seen("AAPL")
        assert seen is not None and seen.quote.source == "alpaca" and not seen.replayed
        assert seen.age(utcnow()) < 5
    finally:
        close_streams(streams)
        desk.close()


def test_no_stream_without_keys_for_other_sources_or_when_turned_off(
    tmp_path: Path, server: FakeAlpacaStream, monkeypatch: pytest.MonkeyPatch, log: Any
) -> None:
    for name in ("APCA_API_KEY_ID", "APCA_API_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    no_keys = _desk(tmp_path / "a", "alpaca", server.url)
    sample = _desk(tmp_path / "b", "sample", server.url)
    off = _desk(tmp_path / "c", "alpaca", server.url, stream_quotes=False)
    try:
        assert open_streams(no_keys, QuoteBook(), ["AAPL"], log) == []
        monkeypatch.setenv("APCA_API_KEY_ID", KEY)
        monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET)
        for desk in (sample, off):
            assert open_streams(desk, QuoteBook(), ["AAPL"], log) == []
        assert server.auth == []  # nothing ever connected
    finally:
        for desk in (no_keys, sample, off):
            desk.close()
