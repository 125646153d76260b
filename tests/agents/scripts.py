"""A scripted crew for the fake LLM server: what each desk agent answers, decided per request.

Each task first calls one registry tool (checking the desk's tool names reach the server),
then answers with JSON built from the desk data in its prompt, so its figures are grounded.
Knobs change one answer at a time (a huge quantity, a veto, an invented price).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.llm_server import Step, answer, tool_call

TASK_TOOLS = {
    "research_brief": "analyze_symbol",
    "regime_assessment": "market_regime",
    "sentiment_assessment": "news_sentiment",
    "trade_plan": None,
    "risk_review": "economic_calendar",
    "execution_proposal": "slippage_estimate",
}
_TASK_MARKERS = {
    "Research ": "research_brief",
    "Assess the market regime": "regime_assessment",
    "Assess news sentiment": "sentiment_assessment",
    "Combine the assessments": "trade_plan",
    "Review the trade plan": "risk_review",
    "Write the proposal": "execution_proposal",
}


def task_of(body: dict[str, Any]) -> str:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    task_line = user.split("Current Task:", 1)[-1].strip()
    for marker, name in _TASK_MARKERS.items():
        if task_line.startswith(marker):
            return name
    raise AssertionError(f"unknown task in prompt: {task_line[:80]!r}")


def desk_data(body: dict[str, Any]) -> dict[str, Any]:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    block = user.split("Desk data (tool output, JSON):\n", 1)[1]
    return json.JSONDecoder().raw_decode(block)[0]


def headlines_in(body: dict[str, Any]) -> list[str]:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    match = re.search(r"UNTRUSTED headlines[^\n]*\n", user)
    if not match:
        return []
    return json.JSONDecoder().raw_decode(user[match.end() :])[0]


@dataclass
class DeskScript:
    """Answers the standard crew; set a knob to change one agent's answer."""

    plan_quantity: float | None = None  # None: the desk plan's maximum
    plan_side: str | None = None  # None: follow the desk signal
    verdict: str = "approve"
    review_quantity: float | None = None
    invented_price: float | None = None  # put into the research summary
    use_tools: bool = True
    propose: bool = True
    tokens: int = 40
    seen: list[str] = field(default_factory=list)

    def __call__(self, body: dict[str, Any]) -> Step:
        task = task_of(body)
        data = desk_data(body)
        last = body["messages"][-1]
        tool = TASK_TOOLS[task]
        if self.use_tools and tool and last["role"] != "tool":
            self.seen.append(f"{task}:{tool}")
            return tool_call(
                tool,
                self._tool_args(tool, data, body),
                prompt_tokens=self.tokens,
                completion_tokens=self.tokens // 2,
            )
        self.seen.append(task)
        return answer(
            self._answer(task, data), prompt_tokens=self.tokens, completion_tokens=self.tokens // 2
        )

    def _tool_args(self, tool: str, data: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        symbol = data["symbol"]
        if tool == "news_sentiment":
            return {"texts": headlines_in(body) or [f"{symbol} quiet session"]}
        if tool == "slippage_estimate":
            return {"symbol": symbol, "side": "buy", "quantity": 1.0}
        if tool == "economic_calendar":
            return {"symbol": symbol}
        return {"symbol": symbol, "timeframe": data["timeframe"]}

    def _answer(self, task: str, data: dict[str, Any]) -> dict[str, Any]:
        plan = data["desk_plan"]
        price = data["last_price"]
        if task == "research_brief":
            figure = self.invented_price if self.invented_price is not None else price
            return {
                "summary": f"{data['symbol']} last traded at {figure}; RSI "
                f"{data['indicators']['rsi']:.1f}.",
                "bias": "neutral",
                "evidence": [data["indicators"]["summary"]],
            }
        if task == "regime_assessment":
            regime = data["regime"] or {"regime": "ranging", "confidence": 0.5}
            return {"regime": regime["regime"], "confidence": regime["confidence"], "evidence": []}
        if task == "sentiment_assessment":
            return {"label": "neutral", "score": 0.0, "evidence": [], "injection_suspected": False}
        if task == "trade_plan":
            side = self.plan_side or {"long": "buy", "short": "sell"}.get(plan["direction"], "flat")
            qty = self.plan_quantity if self.plan_quantity is not None else plan["max_quantity"]
            return {
                "side": side,
                "quantity": qty,
                "stop_loss": plan["stop_loss"],
                "take_profit": plan["take_profit"],
                "rationale": "follows the desk signal",
                "confidence": data["signal"]["confidence"],
            }
        if task == "risk_review":
            return {
                "verdict": self.verdict,
                "quantity": self.review_quantity,
                "reasons": [f"{self.verdict} per desk limits"],
            }
        return {
            "propose": self.propose,
            "side": "buy",
            "quantity": plan["max_quantity"],
            "stop_loss": plan["stop_loss"],
            "take_profit": plan["take_profit"],
            "rationale": "as planned",
        }
