"""``trade_command``: a trader's sentence -> a typed intent -> a proposal or an answer.

The deterministic parser decides; the configured LLM is asked only when the parser cannot,
and its answer is parsed again as data. No path here submits, cancels or halts anything:
every change comes back as a pending proposal or action, or as the tool to call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradecrew.mcp_server.intent import Intent, ParseFailure, parse_command
from tradecrew.mcp_server.intent_models import (
    CancelIntent,
    CloseIntent,
    KillSwitchIntent,
    QueryIntent,
    TradeIntent,
)
from tradecrew.mcp_server.proposals import ACTOR, closing_proposal, proposal_result
from tradecrew.mcp_server.schemas import envelope, mark_untrusted, untrusted
from tradecrew.models import Origin, ProposalRequest

if TYPE_CHECKING:
    from tradecrew.desk import Desk
    from tradecrew.mcp_server.bulk import BulkActions


def _quote_lookup(desk: Desk):  # type: ignore[no-untyped-def]
    def lookup(symbol: str) -> float:
        return desk.broker.quote(symbol).last

    return lookup


def _answer(desk: Desk, topic: str, currency: str | None, symbol: str | None) -> dict[str, Any]:
    if topic in ("exposure", "risk"):
        status = desk.risk_status()
        data: dict[str, Any] = {
            "trading_state": status.trading_state.value,
            "exposure": status.exposure,
            "gross_exposure": status.gross_exposure,
            "net_exposure": status.net_exposure,
        }
        if currency:
            value = status.exposure.get(currency.upper(), 0.0)
            data["currency"] = currency.upper()
            data["currency_exposure"] = value
            data["answer"] = (
                f"net {currency.upper()} exposure is {value:,.2f} {status.account.currency}"
                if status.account
                else f"net {currency.upper()} exposure is {value:,.2f}"
            )
        return data
    if topic == "positions":
        return {"positions": [p.model_dump(mode="json") for p in desk.broker.positions()]}
    if topic == "orders":
        orders = [o.model_dump(mode="json") for o in desk.orders(open_only=True)]
        return {"orders": mark_untrusted(orders)}
    if topic == "account":
        return {"account": desk.broker.account().model_dump(mode="json")}
    if topic == "quote" and symbol:
        return {"quote": desk.broker.quote(symbol).model_dump(mode="json")}
    if topic == "analysis" and symbol:
        from tradecrew.tools.catalog import get_tool

        calendar = desk.calendar
        tool = get_tool("analyze_symbol", desk.settings, calendar=calendar)
        return {"analysis": tool.run({"symbol": symbol}).model_dump(mode="json")}
    return {
        "answer": f"I can report exposure, positions, orders, account, quotes and analysis; "
        f"{topic!r} needs a symbol"
    }


def _intent_json(intent: Intent) -> dict[str, Any]:
    """The intent as JSON, the user's own words in it wrapped as untrusted text."""
    data = intent.model_dump(mode="json")
    if data.get("quoted") is not None:
        data["quoted"] = untrusted(data["quoted"])
    return data


def run_command(desk: Desk, bulk: BulkActions, text: str) -> dict[str, Any]:
    """Turn ``text`` into a proposal, a bulk proposal or an answer."""
    lookup = _quote_lookup(desk)
    intent = parse_command(text, quote_lookup=lookup)
    interpreted_by = "parser"
    if isinstance(intent, ParseFailure):
        from tradecrew.mcp_server.llm_rewrite import rewrite_with_llm

        rewritten = rewrite_with_llm(text, intent, lookup)
        if rewritten is not None:
            intent, interpreted_by = rewritten, "llm"
    echo = {
        "command": untrusted(text),
        "intent": _intent_json(intent),
        "interpreted_by": interpreted_by,
    }
    return {**_act(desk, bulk, intent), **echo}


def _act(desk: Desk, bulk: BulkActions, intent: Intent) -> dict[str, Any]:
    """What ``intent`` comes to: a proposal, a pending bulk action or an answer."""
    match intent:
        case TradeIntent():
            request = ProposalRequest(
                symbol=intent.symbol,
                side=intent.side,
                quantity=intent.quantity,
                order_type=intent.order_type,
                limit_price=intent.limit_price,
                stop_price=intent.stop_price,
                stop_loss=intent.stop_loss,
                take_profit=intent.take_profit,
                origin=Origin.MCP,
                rationale="trade_command",
                **({"time_in_force": intent.time_in_force} if intent.time_in_force else {}),
            )
            return proposal_result(desk.propose(request, actor=ACTOR))
        case CloseIntent():
            if intent.symbol is None:
                return bulk.propose_close_all()
            fraction = intent.fraction if intent.fraction is not None else 1.0
            if intent.quantity is not None:
                held = {p.symbol: abs(p.quantity) for p in desk.broker.positions()}
                fraction = (
                    min(1.0, intent.quantity / held[intent.symbol])
                    if held.get(intent.symbol)
                    else 1.0
                )
            return closing_proposal(desk, intent.symbol, fraction)
        case CancelIntent():
            if intent.order_id:
                return bulk.propose_cancel_order(intent.order_id)
            return bulk.propose_cancel_all(intent.symbol)
        case QueryIntent():
            answer = _answer(desk, intent.topic, intent.currency, intent.symbol)
            return envelope(desk.mode, {"status": "answered", **answer})
        case KillSwitchIntent():
            # Halting cancels every working order: the destructive kill-switch tool does it, so
            # the client shows it as what it is.
            message = (
                "halting trading cancels every working order: call set_kill_switch with "
                "enabled=true and a reason"
                if intent.enabled
                else "resuming trading is a person's decision: call set_kill_switch with "
                "enabled=false and a reason; the client asks the user to confirm"
            )
            return envelope(desk.mode, {"status": "confirmation_required", "next_step": message})
        case ParseFailure():
            quoted = {"quoted": untrusted(intent.quoted)} if intent.quoted is not None else {}
            return envelope(
                desk.mode,
                {
                    "status": "unparsed",
                    "message": intent.message,
                    "missing": intent.missing,
                    **quoted,
                },
            )
