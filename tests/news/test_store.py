"""The headline store: deduplicated, first version kept, point-in-time reads, many writers."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tradecrew.news.models import Headline
from tradecrew.news.store import HeadlineStore, title_key, url_key

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def item(n: int, at: datetime, **kw: object) -> Headline:
    data: dict[str, object] = {
        "provider": "alpaca",
        "provider_id": str(n),
        "source": "benzinga",
        "headline": f"Story number {n}",
        "url": f"https://www.benzinga.com/news/{n}",
        "symbols": ["AAPL"],
        "published_at": at,
    }
    data.update(kw)
    return Headline.model_validate(data)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + timedelta(days=10))


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> HeadlineStore:
    return HeadlineStore(tmp_path / "news.db", clock=clock)


def test_the_same_provider_id_is_kept_once_and_keeps_its_first_version(
    store: HeadlineStore, clock: Clock
) -> None:
    first_seen = clock.now
    store.add([item(1, T0)])
    clock.now += timedelta(hours=1)
    edited = item(1, T0, headline="Story number 1 (updated)", url="https://benzinga.com/x")
    [again] = store.add([edited])
    assert store.count() == 1
    assert again.headline == "Story number 1" and again.first_seen_at == first_seen


def test_the_same_link_from_another_provider_is_a_duplicate(store: HeadlineStore) -> None:
    store.add([item(1, T0, url="https://www.benzinga.com/news/1/?utm_source=rss#top")])
    rss = item(
        9,
        T0 + timedelta(minutes=5),
        provider="rss",
        provider_id="feed:9",
        headline="Other words",
        url="http://benzinga.com/news/1",
    )
    store.add([rss])
    assert store.count() == 1


def test_the_same_headline_within_days_is_a_duplicate_and_gains_symbols(
    store: HeadlineStore,
) -> None:
    store.add([item(1, T0, headline="Apple, Microsoft rally!")])
    [merged] = store.add(
        [
            item(
                2,
                T0 + timedelta(hours=6),
                headline="apple  microsoft RALLY",
                url=None,
                symbols=["MSFT"],
            )
        ]
    )
    assert store.count() == 1 and merged.symbols == ["AAPL", "MSFT"]
    assert [h.provider_id for h in store.query("MSFT", since=T0)] == ["1"]
    store.add([item(3, T0 + timedelta(days=30), headline="Apple, Microsoft rally", url=None)])
    assert store.count() == 2  # a month later it is another story


def test_asof_sees_only_news_published_before_it(store: HeadlineStore) -> None:
    store.add([item(n, T0 + timedelta(hours=n)) for n in range(5)])
    asof = T0 + timedelta(hours=3)
    seen = store.query("AAPL", asof=asof, since=T0 - timedelta(days=1))
    assert [h.provider_id for h in seen] == ["2", "1", "0"]  # published at asof: not yet seen
    assert all(h.published_at < asof for h in seen)
    assert [h.provider_id for h in store.query("AAPL", asof=asof, limit=1)] == ["2"]
    assert [h.provider_id for h in store.query("AAPL", since=T0 + timedelta(hours=4))] == ["4"]


def test_a_replay_reads_the_same_items_after_more_news_arrives(
    store: HeadlineStore, clock: Clock
) -> None:
    store.add([item(n, T0 + timedelta(hours=n)) for n in range(3)])
    asof = T0 + timedelta(hours=2, minutes=30)
    before = store.query("AAPL", asof=asof)
    clock.now += timedelta(days=1)
    store.add([item(n, T0 + timedelta(hours=n)) for n in range(3, 6)])
    store.add([item(1, T0 + timedelta(hours=1), headline="rewritten")])  # an edit at the source
    assert store.query("AAPL", asof=asof) == before


def test_news_stamped_in_the_future_is_not_shown_now(store: HeadlineStore, clock: Clock) -> None:
    store.add([item(1, clock.now + timedelta(days=1)), item(2, clock.now - timedelta(hours=1))])
    assert [h.provider_id for h in store.query("AAPL")] == ["2"]


def test_keys_ignore_case_punctuation_and_tracking() -> None:
    assert title_key("Apple’s  Q4: BEATS!") == title_key("apple’s q4 beats")
    assert url_key("https://www.x.com/a/?utm_medium=rss&id=3#c") == url_key("http://x.com/a?id=3")
    assert url_key("https://x.com/a?id=3") != url_key("https://x.com/a?id=4")


_WRITER = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tradecrew.news.models import Headline
from tradecrew.news.store import HeadlineStore
store = HeadlineStore(Path(sys.argv[1]))
t0 = datetime(2026, 12, 1, tzinfo=UTC)
for n in range(100):
    store.add([Headline(provider="alpaca", provider_id=str(n), source="s",
        headline=f"Story {n}", symbols=["AAPL"], published_at=t0 + timedelta(minutes=n))])
"""


def test_processes_writing_the_same_news_at_once_keep_one_copy(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-2000:]
    assert HeadlineStore(path).count() == 100
