"""Over the real MCP stdio transport: a broker outage is an error result of the call that met
it, in one line; the server stays up and answers the next request."""

from __future__ import annotations

import socket
from pathlib import Path

import anyio

from tests.mcp_server.mcp_client import error_text, mcp_session, server_env


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_broker_outage_is_an_error_result_and_the_server_stays_up(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = server_env(
        home,
        TRADECREW_BROKER__NAME="alpaca",
        TRADECREW_BROKER__ALPACA_BASE_URL=_dead_url(),
        TRADECREW_BROKER__ALPACA_API_KEY="PKTESTKEY0123456789",
        TRADECREW_BROKER__ALPACA_SECRET_KEY="test-secret-value",
        TRADECREW_BROKER__LIVE_TRADING="true",
        TRADECREW_BROKER__READ_ATTEMPTS="1",
    )

    async def main():  # type: ignore[no-untyped-def]
        async with mcp_session(home, "--live", env=env) as s:
            account = await s.call_tool("get_account", {})
            proposal = await s.call_tool(
                "propose_trade", {"symbol": "AAPL", "side": "buy", "quantity": 1}
            )
            again = await s.call_tool("get_positions", {})
            tools = await s.list_tools()  # still serving after the failed calls
            return account, proposal, again, tools

    account, proposal, again, tools = anyio.run(main)
    for result in (account, proposal, again):
        text = error_text(result)
        assert "Alpaca unreachable" in text and "Traceback" not in text
        assert len(text.strip().splitlines()) == 1
    assert "get_account" in {t.name for t in tools.tools}
