"""The issue's "done when", against a real ``tradecrew serve`` process on a temporary home."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.brokers.csv_feed import Feed
from tests.serve.helpers import get, launch, metric, serve_env, serving, tradecrew
from tradecrew.serve import METRIC_NAMES


def test_serve_answers_health_and_metrics_halts_on_the_kill_switch_refuses_a_twin_and_stops(
    tmp_path: Path,
) -> None:
    env = serve_env(tmp_path / "home", TRADECREW_SERVE__WATCH_SECONDS="1")
    with serving(env, "--watchlist", "XAUUSD,EURUSD") as served:
        assert get(served.base + "/healthz") == (200, '{"status":"ok"}\n')
        served.wait_for("tradecrew_trading_state", 0, timeout=10)
        deadline = time.monotonic() + 10
        while missing := [
            name
            for name in METRIC_NAMES
            if not re.search(rf"^{name}(_bucket)?[{{ ]", served.metrics(), re.M)
        ]:
            # Data ages appear once the first refresh has read the quotes.
            assert time.monotonic() < deadline, missing
            time.sleep(0.1)

        # Two other terminals at once: a second daemon on the same home, and the kill switch.
        twin = launch(env, "serve", "--once")
        halt = tradecrew(env, "risk", "kill-switch", "on", "--reason", "news spike")
        assert halt.returncode == 0, halt.stderr
        took = served.wait_for("tradecrew_trading_state", 2, timeout=5)
        assert took <= 1.0 + 0.5, f"state 2 only after {took:.2f} s (watch interval 1 s)"

        _, twin_err = twin.communicate(timeout=60)
        assert twin.returncode == 2
        lines = twin_err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ")
        assert "already running" in lines[0] and "Traceback" not in twin_err

        code, seconds, err = served.stop()
        assert code == 0, err[-2000:]
        assert seconds < 10
        events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
        assert "serve_started" in events and events[-1] == "serve_stopped"


def test_a_loss_past_the_daily_limit_puts_the_desk_in_reducing_with_no_command_typed(
    tradecrew_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradecrew.config import get_settings
    from tradecrew.desk import Desk
    from tradecrew.ledger import Ledger
    from tradecrew.models import ProposalRequest, TradingState

    feed = Feed(tmp_path, "AAPL")
    env = serve_env(
        tradecrew_home,
        TRADECREW_DATA_SOURCE=feed.source,
        TRADECREW_RISK__MAX_DAILY_LOSS_PCT="0.01",
    )
    # The position is opened as a person would, on the same home (paper venue included).
    monkeypatch.setenv("TRADECREW_DATA_SOURCE", feed.source)
    get_settings.cache_clear()
    desk = Desk.from_settings()
    try:
        out = desk.propose(ProposalRequest(symbol="AAPL", side="buy", quantity=100), actor="cli")
        desk.approve(out.proposal_id, actor="alice", channel="cli")
        (position,) = desk.broker.positions()
    finally:
        desk.close()
    # A close that loses 1.5% of the 100,000 start: past the 1% limit, short of a halt (2x).
    close = position.average_price - 1_500 / position.quantity

    with serving(env, "--watchlist", "AAPL") as served:
        served.wait_for("tradecrew_trading_state", 0, timeout=10)
        time.sleep(1.0)  # a few looks at an unchanged book: nothing trips
        assert metric(served.metrics(), "tradecrew_trading_state") == 0
        feed.add(99, 99, close - 1, close)
        served.wait_for("tradecrew_trading_state", 1, timeout=10)
        assert metric(served.metrics(), "tradecrew_daily_pnl") < -1400
        with Ledger.from_settings() as ledger:
            state = ledger.get_trading_state()
        assert state.state is TradingState.REDUCING
        assert "daily loss 1.50% reached the 1.00% limit" in state.reason
        assert state.changed_by == "risk_watch" and state.tripped_by == "risk_watch"
        code, _, err = served.stop()
        assert code == 0, err[-2000:]
    assert '"event": "trading_state_changed"' in err
