"""QuoteStream against a local Alpaca-protocol websocket: quotes, drops, silence, refusals."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from tests.data.fake_alpaca_stream import KEY, SECRET, FakeAlpacaStream
from tradecrew.data.base import DataError
from tradecrew.data.streaming import (
    QuoteStream,
    backoff_delay,
    market_hours_open,
    stream_url,
)
from tradecrew.models import Quote

ALWAYS_OPEN: Callable[[str, datetime], bool] = lambda symbol, now: True  # noqa: E731


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def server_factory() -> Iterator[Callable[..., FakeAlpacaStream]]:
    started: list[FakeAlpacaStream] = []

    def make(plans: list[str], **kw: float) -> FakeAlpacaStream:
        server = FakeAlpacaStream(plans, **kw).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def make_stream(url: str, symbols: list[str], **kw: object) -> QuoteStream:
    options: dict[str, object] = {
        "key": KEY,
        "secret": SECRET,
        "backoff_seconds": 0.05,
        "max_backoff_seconds": 0.4,
        "is_open": ALWAYS_OPEN,
        "poll_seconds": 0.02,
        "seed": 7,
    }
    options.update(kw)
    return QuoteStream(url, symbols, **options)  # type: ignore[arg-type]


def test_stream_authenticates_subscribes_and_keeps_latest_quotes(server_factory) -> None:
    server = server_factory(["stream"])
    seen: list[Quote] = []
    stream = make_stream(server.url, ["AAPL", "msft"], on_quote=seen.append)
    stream.start()
    try:
        wait_for(lambda: len(seen) >= 6)
        assert server.auth[0] == {"action": "auth", "key": KEY, "secret": SECRET}
        assert server.subscribed[0]["quotes"] == ["AAPL", "MSFT"]
        assert server.subscribed[0]["trades"] == ["AAPL", "MSFT"]
        assert server.encodings == ["msgpack"]  # asked for alpaca-py's binary frames
        quote = stream.latest("aapl")
        assert quote is not None and quote.source == "alpaca" and not quote.synthetic
        assert quote.ask > quote.bid > 0 and quote.timestamp.tzinfo is not None
        age = stream.age("AAPL")
        assert age is not None and age < 2.0
        assert stream.latest("TSLA") is None and stream.age("TSLA") is None
        status = stream.status()
        assert status.connected and status.connects == 1 and status.watchdog_trips == 0
        assert KEY not in repr(stream) and SECRET not in repr(stream)
    finally:
        stream.stop()
    assert not stream.status().running


def test_json_frames_and_crypto_wire_names_map_back_to_desk_symbols(server_factory) -> None:
    server = server_factory(["stream"])
    stream = make_stream(server.url, ["BTCUSD"], encoding="json")
    stream.start()
    try:
        wait_for(lambda: stream.latest("BTCUSD") is not None)
        assert server.encodings == ["json"]
        assert server.subscribed[0]["quotes"] == ["BTC/USD"]  # Alpaca's crypto name
        wait_for(lambda: stream.latest("BTCUSD").last != stream.latest("BTCUSD").mid)  # type: ignore[union-attr]
    finally:
        stream.stop()


def test_dropped_connection_reconnects_after_a_backoff(server_factory) -> None:
    server = server_factory(["drop:2", "drop:0", "stream"])
    stream = make_stream(server.url, ["AAPL"], backoff_seconds=0.2, max_backoff_seconds=2.0)
    stream.start()
    try:
        wait_for(lambda: len(server.connections) >= 3)
        wait_for(lambda: stream.status().connected and len(server.closed) >= 2)
        first_gap = server.connections[1] - server.closed[0]
        second_gap = server.connections[2] - server.closed[1]
        # Equal jitter: at least half the base delay, and the failure that brought no data
        # waits longer (the attempt count grows, so does the ceiling).
        assert first_gap >= 0.1
        assert second_gap >= 0.2
        assert stream.status().reconnects >= 2
        before = stream.latest("AAPL")
        wait_for(lambda: stream.latest("AAPL") != before)  # quotes flow again
    finally:
        stream.stop()


def test_silent_stream_is_torn_down_by_the_watchdog_and_age_keeps_growing(
    server_factory,
) -> None:
    server = server_factory(["quiet:1", "quiet:0", "stream"])
    stream = make_stream(
        server.url, ["AAPL"], silence_seconds=0.5, backoff_seconds=0.3, max_backoff_seconds=0.6
    )
    stream.start()
    try:
        wait_for(lambda: stream.latest("AAPL") is not None)
        first = stream.age("AAPL")
        time.sleep(0.3)
        later = stream.age("AAPL")
        assert first is not None and later is not None and later > first + 0.2
        assert len(server.connections) == 1  # still "connected", still silent
        wait_for(lambda: stream.status().watchdog_trips >= 1)
        wait_for(lambda: len(server.connections) >= 2)
        # the next connection is silent from the start: the watchdog trips again
        wait_for(lambda: stream.status().watchdog_trips >= 2)
        assert "no market data" in (stream.status().last_error or "")
        grown = stream.age("AAPL")
        assert grown is not None and grown > 1.0
        wait_for(lambda: (stream.age("AAPL") or 99) < 0.5)  # the third one streams
    finally:
        stream.stop()


def test_silence_while_every_market_is_closed_keeps_the_connection(server_factory) -> None:
    server = server_factory(["quiet:1"])
    stream = make_stream(server.url, ["AAPL"], silence_seconds=0.2, is_open=lambda s, now: False)
    stream.start()
    try:
        wait_for(lambda: stream.latest("AAPL") is not None)
        time.sleep(0.6)
        assert stream.status().watchdog_trips == 0 and len(server.connections) == 1
    finally:
        stream.stop()


def test_closed_market_has_its_own_silence_limit(server_factory) -> None:
    server = server_factory(["quiet:1", "stream"])
    stream = make_stream(
        server.url,
        ["AAPL"],
        silence_seconds=10.0,
        closed_silence_seconds=0.3,
        is_open=lambda s, now: False,
    )
    stream.start()
    try:
        wait_for(lambda: stream.status().watchdog_trips >= 1)
    finally:
        stream.stop()


def test_refused_keys_stop_the_stream_without_retrying(server_factory) -> None:
    server = server_factory(["stream"])
    stream = make_stream(server.url, ["AAPL"], secret="wrong-secret")
    stream.start()
    wait_for(lambda: not stream.status().running)
    status = stream.status()
    assert status.failed is not None and "402" in status.failed
    assert "wrong-secret" not in status.failed
    time.sleep(0.2)
    assert len(server.connections) == 1


def test_a_malformed_frame_drops_the_connection_and_reconnects(server_factory) -> None:
    server = server_factory(["garbage", "stream"])
    stream = make_stream(server.url, ["AAPL"])
    stream.start()
    try:
        wait_for(lambda: stream.latest("AAPL") is not None)
        assert len(server.connections) == 2
    finally:
        stream.stop()


def test_no_server_means_retries_with_growing_waits_until_stopped() -> None:
    stream = make_stream("ws://127.0.0.1:9/v2/iex", ["AAPL"], backoff_seconds=0.02)
    stream.start()
    try:
        wait_for(lambda: stream.status().reconnects >= 3)
        assert "connection lost" in (stream.status().last_error or "")
        assert stream.status().running and stream.latest("AAPL") is None
    finally:
        started = time.monotonic()
        stream.stop()
    assert time.monotonic() - started < 2.0 and not stream.status().running


def test_on_quote_errors_do_not_stop_the_stream(server_factory) -> None:
    server = server_factory(["stream"])
    calls: list[str] = []

    def boom(quote: Quote) -> None:
        calls.append(quote.symbol)
        raise RuntimeError("handler bug")

    stream = make_stream(server.url, ["AAPL"], on_quote=boom)
    stream.start()
    try:
        wait_for(lambda: len(calls) >= 3)
        assert stream.status().connects == 1
    finally:
        stream.stop()


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(1)
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (6, 10.0), (20, 10.0)):
        delays = [backoff_delay(attempt, 1.0, 10.0, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


def test_stream_urls_follow_alpaca_and_refuse_plain_ws_to_other_hosts() -> None:
    assert stream_url("wss://stream.data.alpaca.markets") == (
        "wss://stream.data.alpaca.markets/v2/iex"
    )
    assert stream_url("wss://stream.data.alpaca.markets/", "crypto").endswith("/v1beta3/crypto/us")
    assert stream_url("ws://127.0.0.1:1234/v2/sip") == "ws://127.0.0.1:1234/v2/sip"
    with pytest.raises(DataError, match="plain ws"):
        stream_url("ws://example.com/v2/iex")
    with pytest.raises(DataError, match="ws\\(s\\)"):
        stream_url("https://stream.data.alpaca.markets")
    with pytest.raises(ValueError):
        QuoteStream("ws://127.0.0.1:1/v2/iex", [" "], key=KEY, secret=SECRET)


def test_market_hours_follow_the_asset_class() -> None:
    saturday = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
    tuesday_open = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)  # 10:00 New York
    tuesday_night = datetime(2026, 12, 8, 23, 0, tzinfo=UTC)
    assert market_hours_open("BTCUSD", saturday)
    assert not market_hours_open("AAPL", saturday)
    assert market_hours_open("AAPL", tuesday_open)
    assert not market_hours_open("AAPL", tuesday_night)
    assert market_hours_open("EURUSD", tuesday_night)
    assert not market_hours_open("EURUSD", saturday)
