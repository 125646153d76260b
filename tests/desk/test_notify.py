"""The desk tells the configured sinks about vetoes, pending proposals, fills and trading
state changes (``tradecrew.desk.notify``)."""

from __future__ import annotations

from pathlib import Path

from tests.alerts.fake_telegram import FakeTelegram
from tests.alerts.helpers import GOLD, alert_desk
from tradecrew.desk import notify
from tradecrew.models import ProposalRequest, ProposalStatus, TradingState


def _kinds(telegram: FakeTelegram) -> list[str]:
    return [body["kind"] for body in telegram.webhook]


def test_a_veto_a_pending_proposal_and_a_fill_are_alerted(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    desk = alert_desk(tmp_path, telegram, webhook=True)
    huge = desk.propose(ProposalRequest(symbol="XAUUSD", side="buy", quantity=1_000_000))
    assert huge.status is ProposalStatus.VETOED
    made = desk.propose(GOLD)
    assert desk.approve(made.proposal_id, actor="alice").status is ProposalStatus.FILLED
    assert desk.alerts.flush(10)
    assert _kinds(telegram) == ["veto", "proposal", "fill"]
    veto, pending, fill = telegram.webhook
    assert veto["severity"] == "warning" and huge.proposal_id in str(veto["fields"])
    assert pending["proposal_id"] == made.proposal_id
    assert fill["title"].startswith("filled 1 XAUUSD at ")
    # Only the pending proposal's Telegram message carries buttons.
    assert [("reply_markup" in m) for m in telegram.messages] == [False, True, False]
    desk.close()


def test_the_kill_switch_and_a_tripped_limit_are_alerted(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    desk = alert_desk(tmp_path, telegram, webhook=True)
    notify.state_changed(
        desk, TradingState.ACTIVE, TradingState.REDUCING, "daily loss 3.1% > 3%", "risk_engine"
    )
    desk.set_kill_switch(True, "stop everything", actor="bob")
    desk.set_kill_switch(False, "resume", actor="bob")
    assert desk.alerts.flush(10)
    breach, halt, resume = telegram.webhook
    assert (breach["kind"], breach["title"]) == ("limit_breach", "trading active -> reducing")
    assert (halt["kind"], halt["severity"], halt["text"]) == (
        "trading_state",
        "critical",
        "stop everything",
    )
    assert resume["title"] == "trading halted -> active"
    desk.close()
