"""The human part of the rule at the desk and the gate: an allow-list of channels."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.desk.helpers import build_desk, make_settings
from tradecrew.brokers.paper import PaperBroker
from tradecrew.config import McpSettings
from tradecrew.desk import Desk, DeskError
from tradecrew.desk.gate import GateRefusal
from tradecrew.ledger import Grant
from tradecrew.models import (
    AccountMode,
    ApprovalChannel,
    IllegalTransition,
    ProposalRequest,
    ProposalStatus,
    TradingState,
)

GOLD = ProposalRequest(symbol="XAUUSD", side="buy", quantity=1)


class LiveLabelledPaper(PaperBroker):
    @property
    def mode(self) -> AccountMode:
        return AccountMode.LIVE


def _desk(home: Path, *, bare_mcp: bool = False, live: bool = False) -> Desk:
    settings = make_settings(home)
    settings.mcp = McpSettings(approve_without_confirmation=bare_mcp)
    broker_cls = LiveLabelledPaper if live else PaperBroker
    return build_desk(home, settings, broker_cls=broker_cls)


@pytest.mark.parametrize("channel", ["mcp_tool", "mcp", "auto", "email"])
def test_an_approval_through_a_channel_the_account_does_not_take_changes_nothing(
    desk_home: Path, channel: str
) -> None:
    desk = _desk(desk_home)
    made = desk.propose(GOLD)
    with pytest.raises((DeskError, ValueError)):
        desk.approve(made.proposal_id, actor="alice", channel=channel)
    assert desk.ledger.get_proposal(made.proposal_id).status is ProposalStatus.PENDING
    assert desk.ledger.approvals(made.proposal_id) == []
    assert desk.broker.orders() == []


def test_the_gate_refuses_a_bare_mcp_grant_even_when_the_desk_is_bypassed(tmp_path: Path) -> None:
    desk = _desk(tmp_path)
    made = desk.propose(GOLD)
    decision = desk.ledger.latest_decision(made.proposal_id)
    assert decision is not None
    grant = Grant(
        actor="mcp-user",
        channel=ApprovalChannel.MCP_UNCONFIRMED,
        expires_at=decision.expires_at,
        order_hash=decision.order_hash,
    )
    with pytest.raises(GateRefusal) as refused:
        desk.gate.submit(made.proposal_id, "mcp-user", grant)
    assert refused.value.rule == "human" and "mcp_tool" in refused.value.reason
    assert desk.broker.orders() == []


def test_bare_mcp_approvals_fill_on_paper_only_when_turned_on(tmp_path: Path) -> None:
    paper = _desk(tmp_path / "paper", bare_mcp=True)
    made = paper.propose(GOLD)
    assert paper.approve(made.proposal_id, channel="mcp_tool").status is ProposalStatus.FILLED
    live = _desk(tmp_path / "live", bare_mcp=True, live=True)
    made = live.propose(GOLD)
    with pytest.raises(DeskError, match="live"):
        live.approve(made.proposal_id, channel="mcp_tool")
    assert live.approve(made.proposal_id, channel="mcp_ok").status is ProposalStatus.FILLED


@pytest.mark.parametrize("channel", ["mcp_tool", "mcp", "auto", None])
def test_only_a_persons_channel_resumes_trading(tmp_path: Path, channel: str | None) -> None:
    desk = _desk(tmp_path, bare_mcp=True)
    desk.set_kill_switch(True, "news spike", actor="system", channel=channel)
    with pytest.raises(IllegalTransition, match="only a person"):
        desk.set_kill_switch(False, "resume", actor="alice", channel=channel)
    assert desk.ledger.get_trading_state().state is TradingState.HALTED
    assert desk.set_kill_switch(False, "resume", actor="alice", channel="cli").kill_switch is False
