"""The daemon tells people: risk-watch findings and failed jobs become alerts, and Telegram
presses are polled on schedule when an approver chat is configured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.alerts.fake_telegram import FakeTelegram
from tests.alerts.helpers import alert_settings
from tests.brokers.csv_feed import Feed
from tests.serve.conftest import buy
from tradecrew.brokers.paper import PaperBroker
from tradecrew.config import Settings
from tradecrew.desk import Desk
from tradecrew.ledger import Ledger
from tradecrew.serve.jobs import Jobs
from tradecrew.serve.metrics import DeskMetrics
from tradecrew.serve.scheduler import build, steps


def _desk(tmp_path: Path, feed: Feed, telegram: FakeTelegram, **alerts: Any) -> Desk:
    home = tmp_path / "home"
    home.mkdir(mode=0o700, parents=True)
    settings = Settings(
        home=home,
        data_source=feed.source,
        risk={"max_daily_loss_pct": 0.01},
        serve={"watch_seconds": 0.5, "crew": {}},
    )
    settings.alerts = alert_settings(telegram, webhook=True, **alerts)
    broker = PaperBroker(home / "p.db", source=feed.source, settings=settings.broker)
    return Desk(Ledger(f"sqlite:///{home / 'l.db'}"), broker, settings, source=feed.source)


def test_a_daily_loss_found_by_the_watch_is_alerted_once(
    tmp_path: Path, feed: Feed, telegram: FakeTelegram, log: Any
) -> None:
    desk = _desk(tmp_path, feed, telegram, approver=None)
    try:
        buy(desk)
        jobs = Jobs(desk, DeskMetrics(), log, ["AAPL"])
        (pos,) = desk.broker.positions()
        close = pos.average_price - 0.015 * 100_000 / pos.quantity
        feed.add(close + 1, close + 1, close - 1, close)
        jobs.watcher.run()
        jobs.watcher.run()  # the same finding again: told once
        assert desk.alerts.flush(10)
        found = [b for b in telegram.webhook if b["title"] == "risk watch: daily loss"]
        assert len(found) == 1
        assert found[0]["kind"] == "limit_breach" and "1.00% limit" in found[0]["text"]
    finally:
        desk.close()


def test_a_failing_job_is_alerted(
    tmp_path: Path, feed: Feed, telegram: FakeTelegram, log: Any
) -> None:
    desk = _desk(tmp_path, feed, telegram, approver=None)
    try:
        jobs = Jobs(desk, DeskMetrics(), log, ["AAPL"])

        def broken() -> None:
            raise RuntimeError("the broker went away")

        assert jobs.guarded("refresh", broken)() is False
        assert desk.alerts.flush(10)
        (sent,) = [b for b in telegram.webhook if b["kind"] == "error"]
        assert sent["title"] == "serve job failed: refresh"
        assert "the broker went away" in sent["text"]
    finally:
        desk.close()


def test_telegram_presses_are_polled_only_when_an_approver_chat_is_set(
    tmp_path: Path, feed: Feed, telegram: FakeTelegram, log: Any
) -> None:
    with_approver = _desk(tmp_path / "a", feed, telegram)
    without = _desk(tmp_path / "b", feed, telegram, approver=None)
    try:
        for desk, polled in ((with_approver, True), (without, False)):
            jobs = Jobs(desk, DeskMetrics(), log, ["AAPL"])
            assert ("telegram_poll" in steps(jobs, desk.settings.serve)) is polled
            scheduler = build(jobs, desk.settings.serve)
            assert (scheduler.get_job("telegram_poll") is not None) is polled
    finally:
        with_approver.close()
        without.close()
