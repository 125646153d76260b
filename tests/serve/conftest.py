"""A desk on real files (ledger, paper venue, a csv source the test moves) for serve tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from tests.brokers.csv_feed import Feed
from tradecrew.brokers import PaperBroker
from tradecrew.config import Settings
from tradecrew.desk import Desk
from tradecrew.ledger import Ledger
from tradecrew.models import ProposalRequest


def make_desk(home: Path, feed: Feed, **serve: Any) -> Desk:
    settings = Settings(
        home=home,
        data_source=feed.source,
        risk={"max_daily_loss_pct": 0.01},
        serve={"watch_seconds": 0.5, "crew": {}, **serve},
    )
    broker = PaperBroker(home / "p.db", source=feed.source, settings=settings.broker)
    return Desk(Ledger(f"sqlite:///{home / 'l.db'}"), broker, settings, source=feed.source)


def buy(desk: Desk, quantity: float = 100, **terms: Any) -> None:
    out = desk.propose(ProposalRequest(symbol="AAPL", side="buy", quantity=quantity, **terms))
    desk.approve(out.proposal_id, actor="alice", channel="cli")


@pytest.fixture
def feed(tmp_path: Path) -> Feed:
    return Feed(tmp_path, "AAPL")


@pytest.fixture
def desk(tmp_path: Path, feed: Feed) -> Iterator[Desk]:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    desk = make_desk(home, feed)
    yield desk
    desk.close()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """For tests that configure the daemon's logging in this process."""
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


@pytest.fixture
def log() -> Any:
    return structlog.get_logger("test")
