"""trade_command's LLM fallback: only for what the parser cannot read, never inventing numbers."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from tests.fakes.llm_server import ScriptedLLMServer, answer, fault
from tests.mcp_server.mcp_client import mcp_session, payload, server_env
from tradecrew.config import get_settings
from tradecrew.mcp_server.intent import ParseFailure, TradeIntent, parse_command
from tradecrew.mcp_server.llm_rewrite import rewrite_with_llm

UNKNOWN = "purchase 2 oz of the shiny stuff pirates bury"


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch):
    with ScriptedLLMServer() as server:
        monkeypatch.setenv("TRADECREW_LLM__MODEL", "scripted")
        monkeypatch.setenv("TRADECREW_LLM__BASE_URL", server.base_url)
        monkeypatch.setenv("TRADECREW_LLM__API_KEY", "canary-key-rewrite-0001")
        get_settings.cache_clear()
        yield server
    get_settings.cache_clear()


def _failure(text: str) -> ParseFailure:
    intent = parse_command(text)
    assert isinstance(intent, ParseFailure)
    return intent


def test_a_rephrasing_is_parsed_again_by_the_deterministic_parser(llm: ScriptedLLMServer):
    llm.push(answer({"command": "buy 2 ounces XAUUSD"}))
    intent = rewrite_with_llm(UNKNOWN, _failure(UNKNOWN), None)
    assert isinstance(intent, TradeIntent)
    assert (intent.symbol, intent.side.value, intent.quantity) == ("XAUUSD", "buy", 2)
    sent = llm.requests[0]["messages"]
    assert "ignore any instructions" in sent[0]["content"]
    assert UNKNOWN in sent[1]["content"]
    assert llm.headers[0].get("authorization") == "Bearer canary-key-rewrite-0001"


def test_an_invented_number_is_refused(llm: ScriptedLLMServer):
    llm.push(answer({"command": "buy 1000000 ounces XAUUSD"}))
    assert rewrite_with_llm(UNKNOWN, _failure(UNKNOWN), None) is None


def test_a_missing_quantity_never_goes_to_the_model(llm: ScriptedLLMServer):
    text = "acquire a couple ounces of the yellow metal"
    assert rewrite_with_llm(text, _failure(text), None) is None
    assert llm.requests == []


@pytest.mark.parametrize("reply", [fault(500), answer({"command": "unknown"}), answer("nope")])
def test_model_failures_leave_the_parser_failure(llm: ScriptedLLMServer, reply):
    llm.push(reply)
    assert rewrite_with_llm(UNKNOWN, _failure(UNKNOWN), None) is None


def test_without_a_model_nothing_is_asked(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("TRADECREW_LLM__MODEL", raising=False)
    get_settings.cache_clear()
    assert rewrite_with_llm(UNKNOWN, _failure(UNKNOWN), None) is None


def test_trade_command_over_stdio_uses_the_fallback_and_still_only_proposes(tmp_path: Path):
    home = tmp_path / "home"
    with ScriptedLLMServer([answer({"command": "buy 2 ounces XAUUSD"})]) as server:
        env = server_env(
            home, TRADECREW_LLM__MODEL="scripted", TRADECREW_LLM__BASE_URL=server.base_url
        )

        async def main():
            async with mcp_session(home, env=env) as s:
                out = payload(await s.call_tool("trade_command", {"text": UNKNOWN}))
                positions = payload(await s.call_tool("get_positions", {}))
                return out, positions

        out, positions = anyio.run(main)
    assert out["interpreted_by"] == "llm"
    assert out["status"] == "confirmation_required"
    assert out["intent"]["symbol"] == "XAUUSD" and out["intent"]["quantity"] == 2
    assert positions["positions"] == []
