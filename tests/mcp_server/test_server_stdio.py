"""The MCP server as Claude Desktop uses it: a real SDK client over stdio, a fresh home."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from mcp.types import ElicitResult

from tests.mcp_server.mcp_client import accept, error_text, mcp_session, payload, server_env

READ_TOOLS = {
    "get_quote",
    "get_bars",
    "analyze_symbol",
    "analyze_sentiment",
    "get_regime",
    "get_account",
    "get_positions",
    "get_orders",
    "list_proposals",
    "get_risk_status",
    "explain_decision",
}
WRITE_TOOLS = {
    "propose_trade",
    "trade_command",
    "approve_proposal",
    "reject_proposal",
    "cancel_order",
    "close_position",
    "set_kill_switch",
}


def run(func, *args):  # type: ignore[no-untyped-def]
    return anyio.run(func, *args)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_read_only_mode_registers_no_state_changing_tool(home: Path):
    async def main():
        async with mcp_session(home, "--read-only") as s:
            return {t.name for t in (await s.list_tools()).tools}

    names = run(main)
    assert names >= READ_TOOLS
    assert not (names & WRITE_TOOLS)
    assert all(n not in names for n in ("cancel_all_orders", "close_all_positions"))


def test_analyse_then_trade_command_then_approve_fills_a_paper_position(home: Path):
    async def main():
        async with mcp_session(home, elicitation=accept) as s:
            analysis = payload(await s.call_tool("analyze_symbol", {"symbol": "gold"}))
            proposed = payload(
                await s.call_tool(
                    "trade_command", {"text": "go long gold 2 ounces, take profit 2450"}
                )
            )
            positions_before = payload(await s.call_tool("get_positions", {}))
            approved = payload(
                await s.call_tool("approve_proposal", {"proposal_id": proposed["proposal_id"]})
            )
            positions = payload(await s.call_tool("get_positions", {}))
            again = await s.call_tool("approve_proposal", {"proposal_id": proposed["proposal_id"]})
            return analysis, proposed, positions_before, approved, positions, again

    analysis, proposed, before, approved, positions, again = run(main)
    assert analysis["account_mode"] == "paper"
    assert analysis["signal"]["direction"] in {"long", "short", "flat"}
    assert analysis["blackout"]["synthetic"] is True  # the packaged sample calendar
    assert "sample calendar (synthetic)" in analysis["blackout"]["reason"]
    assert proposed["status"] == "confirmation_required"
    assert proposed["account_mode"] == "paper"
    assert proposed["intent"]["take_profit"] == 2450
    assert before["positions"] == []  # nothing is placed by a proposal
    assert approved["status"] == "filled"
    assert approved["order"]["quantity"] == 2
    held = {p["symbol"]: p["quantity"] for p in positions["positions"]}
    assert held == {"XAUUSD": 2}
    assert "only pending proposals" in error_text(again)


def test_oversized_order_is_vetoed_with_reasons(home: Path):
    env = server_env(home, TRADECREW_RISK__MAX_ORDER_NOTIONAL="500")

    async def main():
        async with mcp_session(home, env=env) as s:
            out = payload(
                await s.call_tool(
                    "propose_trade",
                    {
                        "symbol": "EURUSD",
                        "side": "BUY",
                        "quantity": "1000000",
                    },
                )
            )
            explained = payload(
                await s.call_tool("explain_decision", {"proposal_id": out["proposal_id"]})
            )
            orders = payload(await s.call_tool("get_orders", {}))
            return out, explained, orders

    out, explained, orders = run(main)
    assert out["status"] == "vetoed"
    assert any("max_order_notional" in r["untrusted_text"] for r in out["reasons"])
    assert explained["summary"]["untrusted_text"].startswith("vetoed")
    assert orders["orders"] == []


def test_kill_switch_blocks_approval(home: Path):
    async def main():
        async with mcp_session(home, elicitation=accept) as s:
            out = payload(
                await s.call_tool(
                    "propose_trade",
                    {
                        "symbol": "XAUUSD",
                        "side": "buy",
                        "quantity": 1,
                    },
                )
            )
            halted = payload(
                await s.call_tool("set_kill_switch", {"enabled": True, "reason": "test halt"})
            )
            approved = payload(
                await s.call_tool("approve_proposal", {"proposal_id": out["proposal_id"]})
            )
            positions = payload(await s.call_tool("get_positions", {}))
            return halted, approved, positions

    halted, approved, positions = run(main)
    assert halted["trading_state"] == "halted" and halted["kill_switch"] is True
    assert approved["status"] != "filled" and "order" not in approved
    message = approved["message"]["untrusted_text"]
    assert "kill switch" in message or any(
        "kill" in r["untrusted_text"] for r in approved["reasons"]
    )
    assert positions["positions"] == []


def test_elicitation_decline_places_nothing_and_accept_places(home: Path):
    answers = iter(
        [
            ElicitResult(action="decline"),
            ElicitResult(action="accept", content={"confirm": True}),
        ]
    )
    asked: list[str] = []

    async def elicit(context, params):  # type: ignore[no-untyped-def]
        asked.append(params.message)
        return next(answers)

    async def main():
        async with mcp_session(home, elicitation=elicit) as s:
            out = payload(
                await s.call_tool(
                    "propose_trade",
                    {
                        "symbol": "BTCUSD",
                        "side": "buy",
                        "quantity": 0.01,
                    },
                )
            )
            declined = payload(
                await s.call_tool("approve_proposal", {"proposal_id": out["proposal_id"]})
            )
            accepted = payload(
                await s.call_tool("approve_proposal", {"proposal_id": out["proposal_id"]})
            )
            return declined, accepted

    declined, accepted = run(main)
    assert declined["status"] == "declined"
    assert accepted["status"] == "filled"
    assert len(asked) == 2 and "BTCUSD" in asked[0] and "paper" in asked[0]


def test_bulk_cancel_is_its_own_proposal(home: Path):
    async def main():
        async with mcp_session(home, elicitation=accept) as s:
            limit = payload(
                await s.call_tool(
                    "propose_trade",
                    {
                        "symbol": "EURUSD",
                        "side": "buy",
                        "quantity": 10000,
                        "order_type": "limit",
                        "limit_price": 1.05,
                    },
                )
            )
            placed = payload(
                await s.call_tool("approve_proposal", {"proposal_id": limit["proposal_id"]})
            )
            bulk = payload(await s.call_tool("trade_command", {"text": "cancel all EURUSD orders"}))
            still_open = payload(await s.call_tool("get_orders", {"open_only": True}))
            done = payload(
                await s.call_tool("approve_proposal", {"proposal_id": bulk["proposal_id"]})
            )
            after = payload(await s.call_tool("get_orders", {"open_only": True}))
            return placed, bulk, still_open, done, after

    placed, bulk, still_open, done, after = run(main)
    assert placed["order"]["status"] in {"accepted", "submitted"}
    assert bulk["status"] == "confirmation_required"
    assert len(still_open["orders"]) == 1
    assert done["status"] == "done" and len(done["cancelled"]) == 1
    assert after["orders"] == []


def test_exposure_question_is_answered_not_traded(home: Path):
    async def main():
        async with mcp_session(home) as s:
            return payload(
                await s.call_tool("trade_command", {"text": "what's my exposure to USD?"})
            )

    out = run(main)
    assert out["status"] == "answered" and out["currency"] == "USD"


@pytest.mark.parametrize(
    ("tool", "args", "needle"),
    [
        ("propose_trade", {"symbol": "XAUUSD", "side": "buy", "quantity": -5}, "quantity"),
        ("propose_trade", {"symbol": "XAUUSD", "side": "hold", "quantity": 1}, "side"),
        ("propose_trade", {"symbol": "NOPE", "side": "buy", "quantity": 1}, "unknown symbol"),
        (
            "propose_trade",
            {
                "symbol": "XAUUSD",
                "side": "buy",
                "quantity": 1,
                "order_type": "limit",
                "limit_price": 9999,
            },
            "from the last",
        ),
        ("approve_proposal", {"proposal_id": "prp_nope"}, "not found"),
        ("get_quote", {}, "symbol"),
        ("close_position", {"symbol": "XAUUSD"}, "no open xauusd position"),
    ],
)
def test_bad_arguments_are_clear_errors(home: Path, tool: str, args: dict, needle: str):
    async def main():
        async with mcp_session(home) as s:
            return await s.call_tool(tool, args)

    assert needle in error_text(run(main)).lower()


def test_unparsed_command_says_what_is_missing(home: Path):
    async def main():
        async with mcp_session(home) as s:
            return payload(await s.call_tool("trade_command", {"text": "buy gold"}))

    out = run(main)
    assert out["status"] == "unparsed"
    assert "quantity" in out["message"].lower()


def test_resources_prompts_and_json_string_lists(home: Path):
    async def main():
        async with mcp_session(home) as s:
            resources = {str(r.uri) for r in (await s.list_resources()).resources}
            prompts = {p.name for p in (await s.list_prompts()).prompts}
            positions = await s.read_resource("tradecrew://positions")
            sentiment = payload(
                await s.call_tool(
                    "analyze_sentiment", {"texts": '["Profit jumps 40%", "Shares slump on probe"]'}
                )
            )
            return resources, prompts, positions, sentiment

    resources, prompts, positions, sentiment = run(main)
    assert {
        "tradecrew://positions",
        "tradecrew://orders/open",
        "tradecrew://audit",
        "tradecrew://reports/latest",
    } <= resources
    assert {"morning_briefing", "review_my_risk"} <= prompts
    # Like every tool result, a resource says which account it speaks for.
    assert json.loads(positions.contents[0].text) == {"account_mode": "paper", "items": []}
    labels = [r["label"] for r in sentiment["results"]]
    assert labels == ["positive", "negative"]
    assert sentiment["results"][0]["text"] == {"untrusted_text": "Profit jumps 40%"}


def test_live_needs_the_setting_as_well_as_the_flag(tmp_path: Path):
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "tradecrew", "mcp", "--live"],
        env=server_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "LIVE_TRADING" in out.stderr
