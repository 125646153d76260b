"""Who counts as a person over MCP: a confirmed elicitation, never a bare tool call.

A real SDK client over stdio, with and without elicitation support, against a fresh home.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession
from mcp.types import ElicitResult

from tests.mcp_server.mcp_client import accept, error_text, mcp_session, payload, server_env
from tradecrew.brokers.paper import PaperBroker
from tradecrew.config import Settings
from tradecrew.desk import Desk
from tradecrew.ledger import Ledger
from tradecrew.models import AgentVerdict, ProposalRequest, TradingState

GOLD = {"symbol": "XAUUSD", "side": "buy", "quantity": 1}
LIMIT = {
    "symbol": "EURUSD",
    "side": "buy",
    "quantity": 10000,
    "order_type": "limit",
    "limit_price": 1.05,
}
ALLOW_BARE = {"TRADECREW_MCP__APPROVE_WITHOUT_CONFIRMATION": "true"}


def run(func, *args):  # type: ignore[no-untyped-def]
    return anyio.run(func, *args)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


async def call(s: ClientSession, tool: str, **args: Any) -> dict[str, Any]:
    return payload(await s.call_tool(tool, args))


def set_state(home: Path, state: TradingState) -> None:
    """Put the desk in ``state`` before the server starts, as a tripped limit would."""
    settings = Settings(home=home)
    settings.ensure_home()
    ledger = Ledger.from_settings(settings)
    try:
        ledger.set_trading_state(state, "daily loss limit", "system", tripped_by="risk_engine")
    finally:
        ledger.close()


def hold_gold(home: Path) -> None:
    """One ounce of gold bought through the CLI's channel before the server starts."""
    settings = Settings(home=home)
    settings.ensure_home()
    broker = PaperBroker(home / "paper.db", settings=settings.broker)
    desk = Desk(Ledger.from_settings(settings), broker, settings)
    try:
        made = desk.propose(ProposalRequest(symbol="XAUUSD", side="buy", quantity=1))
        assert desk.approve(made.proposal_id, actor="alice", channel="cli").order is not None
    finally:
        desk.close()


def answers(*results: ElicitResult) -> tuple[Any, list[str]]:
    """An elicitation callback giving ``results`` in turn, and the questions it was asked."""
    asked: list[str] = []
    it: Iterator[ElicitResult] = iter(results)

    async def elicit(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return next(it)

    return elicit, asked


# ---------------------------------------------------------------- approvals


def test_an_unconfirmed_approval_on_paper_is_refused_and_changes_nothing(home: Path):
    async def main():
        async with mcp_session(home) as s:
            made = await call(s, "propose_trade", **GOLD)
            refused = await call(s, "approve_proposal", proposal_id=made["proposal_id"])
            explained = await call(s, "explain_decision", proposal_id=made["proposal_id"])
            positions = await call(s, "get_positions")
            return made, refused, explained, positions

    made, refused, explained, positions = run(main)
    pid = made["proposal_id"]
    assert refused["status"] == "person_required" and refused["changed"] is False
    assert f"tradecrew proposals approve {pid}" in refused["next_step"]
    assert "elicitation" in refused["next_step"]
    assert "TRADECREW_MCP__APPROVE_WITHOUT_CONFIRMATION=true" in refused["next_step"]
    assert explained["proposal"]["status"] == "pending"
    assert explained["approvals"] == [] and explained["orders"] == []
    assert positions["positions"] == []
    # What the refusal says to do works: the CLI is a person's channel.
    done = subprocess.run(
        [sys.executable, "-m", "tradecrew", "proposals", "approve", pid, "--json"],
        env=server_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert '"status":"filled"' in done.stdout.replace(" ", "")


def test_an_unconfirmed_approval_fills_on_paper_when_the_user_turned_it_on(home: Path):
    async def main():
        async with mcp_session(home, env=server_env(home, **ALLOW_BARE)) as s:
            made = await call(s, "propose_trade", **GOLD)
            approved = await call(s, "approve_proposal", proposal_id=made["proposal_id"])
            explained = await call(s, "explain_decision", proposal_id=made["proposal_id"])
            return approved, explained

    approved, explained = run(main)
    assert approved["status"] == "filled" and approved["account_mode"] == "paper"
    assert [a["channel"] for a in explained["approvals"]] == ["mcp_tool"]


def test_a_live_account_takes_only_a_confirmed_approval_whatever_the_setting(home: Path):
    env = server_env(home, **ALLOW_BARE)
    live = "tests.mcp_server.live_server"

    async def main():
        async with mcp_session(home, env=env, module=live) as s:
            made = await call(s, "propose_trade", **GOLD)
            refused = await call(s, "approve_proposal", proposal_id=made["proposal_id"])
            orders = await call(s, "get_orders")
        async with mcp_session(home, env=env, module=live, elicitation=accept) as s:
            approved = await call(s, "approve_proposal", proposal_id=made["proposal_id"])
            explained = await call(s, "explain_decision", proposal_id=made["proposal_id"])
        return made, refused, orders, approved, explained

    made, refused, orders, approved, explained = run(main)
    assert made["account_mode"] == "live" and made["status"] == "confirmation_required"
    assert refused["status"] == "person_required" and refused["account_mode"] == "live"
    assert "live account" in refused["message"]
    assert f"tradecrew proposals approve {made['proposal_id']}" in refused["next_step"]
    assert "APPROVE_WITHOUT_CONFIRMATION" not in refused["next_step"]  # paper only
    assert orders["orders"] == []
    assert approved["status"] == "filled"
    assert [a["channel"] for a in explained["approvals"]] == ["mcp_ok"]


def test_a_decision_changed_while_the_user_confirms_sends_nothing(home: Path):
    """The dialog shows the terms; another process shrinks the proposal before the user's
    answer arrives: what they confirmed is not what would be sent, so nothing is."""
    settings = Settings(home=home)

    async def shrink_then_accept(context: Any, params: Any) -> ElicitResult:
        desk = Desk(
            Ledger.from_settings(settings),
            PaperBroker(home / "paper.db", settings=settings.broker),
            settings,
        )
        try:
            desk.record_agent_verdict(pid, AgentVerdict(verdict="shrink", quantity=0.4))
        finally:
            desk.close()
        return await accept(context, params)

    async def main():
        nonlocal pid
        async with mcp_session(home, elicitation=shrink_then_accept) as s:
            made = await call(s, "propose_trade", **GOLD)
            pid = made["proposal_id"]
            stale = await call(s, "approve_proposal", proposal_id=pid)
            explained = await call(s, "explain_decision", proposal_id=pid)
            return stale, explained

    pid = ""
    stale, explained = run(main)
    # Asked again, with the terms in force now.
    assert stale["status"] == "confirmation_required" and stale["proposal_status"] == "pending"
    assert "changed" in stale["message"]["untrusted_text"], stale
    assert stale["approved_quantity"] == 0.4
    assert explained["approvals"] == [] and explained["orders"] == []


def test_closing_everything_without_confirmation_is_refused(home: Path):
    hold_gold(home)

    async def main():
        async with mcp_session(home) as s:
            bulk = await call(s, "trade_command", text="close all positions")
            refused = await call(s, "approve_proposal", proposal_id=bulk["proposal_id"])
            positions = await call(s, "get_positions")
        return refused, positions

    refused, positions = run(main)
    assert refused["status"] == "person_required" and refused["changed"] is False
    assert [(p["symbol"], p["quantity"]) for p in positions["positions"]] == [("XAUUSD", 1)]


# ---------------------------------------------------------------- trading state


def test_resuming_from_halted_needs_a_confirmed_elicitation(home: Path):
    set_state(home, TradingState.HALTED)
    elicit, asked = answers(
        ElicitResult(action="decline"), ElicitResult(action="accept", content={"confirm": True})
    )

    async def main():
        # The paper setting for approvals never lets a bare call resume trading.
        async with mcp_session(home, env=server_env(home, **ALLOW_BARE)) as s:
            refused = await call(s, "set_kill_switch", enabled=False, reason="all clear")
            by_text = await call(s, "trade_command", text="resume trading")
            still = await call(s, "get_risk_status")
        async with mcp_session(home, elicitation=elicit) as s:
            declined = await call(s, "set_kill_switch", enabled=False, reason="all clear")
            after_decline = await call(s, "get_risk_status")
            resumed = await call(s, "set_kill_switch", enabled=False, reason="all clear")
        return refused, by_text, still, declined, after_decline, resumed

    refused, by_text, still, declined, after_decline, resumed = run(main)
    assert refused["status"] == "person_required" and refused["changed"] is False
    assert "tradecrew risk kill-switch off --reason" in refused["next_step"]
    assert by_text["status"] == "confirmation_required"
    assert still["trading_state"] == "halted"
    assert declined["status"] == "declined" and after_decline["trading_state"] == "halted"
    assert resumed["trading_state"] == "active" and resumed["kill_switch"] is False
    assert len(asked) == 2 and "halted" in asked[0]


def test_resuming_from_reducing_without_elicitation_is_refused(home: Path):
    set_state(home, TradingState.REDUCING)

    async def main():
        async with mcp_session(home) as s:
            refused = await call(s, "set_kill_switch", enabled=False, reason="all clear")
            return refused, await call(s, "get_risk_status")

    refused, status = run(main)
    assert refused["status"] == "person_required"
    assert status["trading_state"] == "reducing"


# ---------------------------------------------------------------- text commands


def test_a_cancel_or_halt_typed_as_text_waits_for_approval(home: Path):
    async def main():
        async with mcp_session(home, elicitation=accept) as s:
            made = await call(s, "propose_trade", **LIMIT)
            placed = await call(s, "approve_proposal", proposal_id=made["proposal_id"])
            order_id = placed["order"]["id"]
            one = await call(s, "trade_command", text=f"cancel order {order_id}")
            every = await call(s, "trade_command", text="cancel all EURUSD orders")
            halt = await call(s, "trade_command", text="halt trading")
            still_open = await call(s, "get_orders", open_only=True)
            status = await call(s, "get_risk_status")
            done = await call(s, "approve_proposal", proposal_id=one["proposal_id"])
            after = await call(s, "get_orders", open_only=True)
            # Halting is the safe direction: no person needed.
            halted = await call(s, "set_kill_switch", enabled=True, reason="news spike")
        return order_id, one, every, halt, still_open, status, done, after, halted

    order_id, one, every, halt, still_open, status, done, after, halted = run(main)
    assert one["status"] == "confirmation_required" and one["kind"] == "cancel_order"
    assert every["status"] == "confirmation_required"
    assert halt["status"] == "confirmation_required" and "set_kill_switch" in halt["next_step"]
    assert [o["id"] for o in still_open["orders"]] == [order_id]
    assert status["trading_state"] == "active"
    assert done["status"] == "done" and done["cancelled"] == [order_id]
    assert after["orders"] == []
    assert halted["trading_state"] == "halted"


# ---------------------------------------------------------------- annotations

# tool -> (readOnlyHint, destructiveHint, idempotentHint)
HINTS = {
    "get_quote": (True, False, True),
    "get_bars": (True, False, True),
    "analyze_symbol": (True, False, True),
    "analyze_sentiment": (True, False, True),
    "get_regime": (True, False, True),
    "get_account": (True, False, True),
    "get_positions": (True, False, True),
    "get_orders": (True, False, True),
    "list_proposals": (True, False, True),
    "get_risk_status": (True, False, True),
    "explain_decision": (True, False, True),
    "propose_trade": (False, False, False),
    "trade_command": (False, False, False),
    "close_position": (False, False, False),
    "cancel_all_orders": (False, False, False),
    "close_all_positions": (False, False, False),
    "approve_proposal": (False, True, True),
    "reject_proposal": (False, True, True),
    "cancel_order": (False, True, True),
    "set_kill_switch": (False, True, True),
    "list_components": (True, False, True),
    # A new configuration version, undone by a rollback: changes analysis, never an order.
    "set_component": (False, False, True),
}


def test_every_tool_is_annotated_truthfully(home: Path):
    async def main():
        async with mcp_session(home) as s:
            return (await s.list_tools()).tools

    tools = {t.name: t.annotations for t in run(main)}
    assert set(tools) == set(HINTS)
    for name, (read_only, destructive, idempotent) in HINTS.items():
        hints = tools[name]
        assert hints is not None, name
        got = (hints.readOnlyHint, hints.destructiveHint, hints.idempotentHint)
        assert got == (read_only, destructive, idempotent), name


def test_with_paper_auto_approval_the_proposing_tools_say_they_place(home: Path):
    env = server_env(home, TRADECREW_BROKER__AUTO_APPROVE_PAPER="true")

    async def main():  # type: ignore[no-untyped-def]
        async with mcp_session(home, env=env) as s:
            tools = {t.name: t for t in (await s.list_tools()).tools}
            placed = await call(s, "propose_trade", **GOLD)
            negated = await call(s, "trade_command", text="don't buy 2 gold")
            orders = await call(s, "get_orders")
            return tools, placed, negated, orders

    tools, placed, negated, orders = run(main)
    for name in ("propose_trade", "trade_command", "close_position"):
        hints = tools[name].annotations
        assert hints is not None and hints.destructiveHint is True, name
        assert hints.idempotentHint is False, name
        assert "PLACED AT ONCE" in (tools[name].description or ""), name
        assert "Nothing is placed" not in (tools[name].description or ""), name
    assert placed["status"] == "filled"  # what the words now say is what happens
    # A negated command is refused, never read without its "not" and filled at once.
    assert negated["status"] == "unparsed" and negated["intent"]["problem"] == "negated"
    assert len(orders["orders"]) == 1


# ---------------------------------------------------------------- who the ledger names


async def _audit(s: ClientSession) -> list[dict[str, Any]]:
    text = (await s.read_resource("tradecrew://audit")).contents[0].text  # type: ignore[union-attr]
    return json.loads(text)["items"]


def test_bare_calls_are_recorded_as_the_clients_never_the_users(home: Path):
    async def main():  # type: ignore[no-untyped-def]
        async with mcp_session(home) as s:
            halted = await call(s, "set_kill_switch", enabled=True, reason="model halts")
            action = await call(s, "cancel_all_orders")
            ran = await call(s, "approve_proposal", proposal_id=action["proposal_id"])
            rows_before = await _audit(s)
            late = await s.call_tool(
                "reject_proposal", {"proposal_id": action["proposal_id"], "reason": "x"}
            )
            rows_after = await _audit(s)
            return halted, ran, rows_before, late, rows_after

    halted, ran, rows_before, late, rows_after = run(main)
    assert halted["changed_by"] == "mcp-client"  # was "mcp-user": no person confirmed it
    assert ran["status"] == "done"
    (approved,) = [r for r in rows_before if r["action"] == "bulk.approved"]
    assert approved["actor"] == "mcp-client"
    assert approved["after"]["channel"] == "mcp_tool"  # the channel is on record
    # Rejecting what already ran is refused and changes nothing (it said "rejected" before).
    assert "already done" in error_text(late) and "nothing was changed" in error_text(late)
    assert rows_after == rows_before
    assert not any(r["action"] == "bulk.rejected" for r in rows_after)


def test_a_confirmed_close_all_lists_what_it_closes_and_names_the_user(home: Path):
    asked: list[str] = []

    async def confirm(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    async def main():  # type: ignore[no-untyped-def]
        async with mcp_session(home, elicitation=confirm) as s:
            gold = await call(s, "propose_trade", **GOLD)
            await call(s, "approve_proposal", proposal_id=gold["proposal_id"])
            action = await call(s, "close_all_positions")
            closed = await call(s, "approve_proposal", proposal_id=action["proposal_id"])
            return closed, await _audit(s)

    closed, rows = run(main)
    assert closed["status"] == "done"
    assert "sell 1 XAUUSD" in asked[-1]  # the person sees what will be closed
    (approved,) = [r for r in rows if r["action"] == "bulk.approved"]
    assert approved["actor"] == "mcp-user"


def test_a_close_all_whose_positions_changed_while_the_user_confirms_closes_nothing(home: Path):
    """The dialog lists "sell 1 XAUUSD"; another process buys 2 more before the user's answer
    arrives: closing now would sell 3, which nobody confirmed, so nothing is sent."""
    hold_gold(home)
    settings = Settings(home=home)

    async def buy_more_then_accept(context: Any, params: Any) -> ElicitResult:
        if params.message.startswith("Close every position"):
            desk = Desk(
                Ledger.from_settings(settings),
                PaperBroker(home / "paper.db", settings=settings.broker),
                settings,
            )
            try:
                more = desk.propose(ProposalRequest(symbol="XAUUSD", side="buy", quantity=2))
                assert desk.approve(more.proposal_id, actor="alice").order is not None
            finally:
                desk.close()
        return await accept(context, params)

    async def main():  # type: ignore[no-untyped-def]
        async with mcp_session(home, elicitation=buy_more_then_accept) as s:
            action = await call(s, "close_all_positions")
            stale = await call(s, "approve_proposal", proposal_id=action["proposal_id"])
            positions = await call(s, "get_positions")
            return action, stale, positions

    action, stale, positions = run(main)
    assert action["positions"] == {"XAUUSD": 1.0}
    assert stale["status"] == "changed" and "nothing was closed" in stale["message"], stale
    (gold,) = positions["positions"]
    assert gold["quantity"] == 3.0  # the 1 listed and the 2 bought since: none sold
