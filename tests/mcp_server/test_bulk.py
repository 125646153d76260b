"""Pending bulk actions in the server process: "close all" closes only what the user saw."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import tradecrew.mcp_server.bulk as bulk_module
from tests.desk.helpers import build_desk, make_settings
from tradecrew.mcp_server.bulk import BulkActions
from tradecrew.models import ProposalRequest, ProposalStatus


def test_a_position_grown_between_the_check_and_the_closing_proposal_is_not_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The positions still match the list when the approval starts, then another order fills
    before the closing proposal is sized: that proposal is rejected, nothing is sold."""
    desk = build_desk(tmp_path, make_settings(tmp_path))
    bought = desk.propose(ProposalRequest(symbol="XAUUSD", side="buy", quantity=1))
    assert desk.approve(bought.proposal_id, actor="alice").order is not None
    actions = BulkActions(desk)
    action = actions.propose_close_all()
    real = bulk_module.closing_proposal

    def grown_meanwhile(*args: Any) -> dict[str, Any]:
        more = desk.propose(ProposalRequest(symbol="XAUUSD", side="buy", quantity=2))
        desk.approve(more.proposal_id, actor="alice")
        return real(*args)

    monkeypatch.setattr(bulk_module, "closing_proposal", grown_meanwhile)
    done = actions.approve(action["proposal_id"], "alice", "cli")
    (closing,) = done["closing"]
    assert closing["proposal_status"] == ProposalStatus.REJECTED.value
    assert [p.quantity for p in desk.broker.positions()] == [3.0]
    desk.close()
