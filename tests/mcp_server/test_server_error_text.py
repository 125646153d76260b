"""Over the real MCP stdio transport: a broker's hostile error text (escape sequences, a forged
line, 100 KB) reaches the client as one plain, capped line in the tool's error result."""

from __future__ import annotations

from pathlib import Path

import anyio

from tests.brokers.fake_alpaca import FakeAlpaca, Fault
from tests.cli.test_server_text import HOSTILE
from tests.mcp_server.mcp_client import error_text, mcp_session, server_env


def test_a_brokers_hostile_message_is_one_capped_line_in_the_error_result(
    tmp_path: Path,
) -> None:
    venue = FakeAlpaca().start()
    venue.faults.append(Fault("GET", None, 100, 403, {"code": 40310000, "message": HOSTILE}))
    home = tmp_path / "home"
    env = server_env(
        home,
        TRADECREW_BROKER__NAME="alpaca",
        TRADECREW_BROKER__ALPACA_BASE_URL=venue.url,
        TRADECREW_BROKER__ALPACA_API_KEY=venue.api_key,
        TRADECREW_BROKER__ALPACA_SECRET_KEY=venue.secret_key,
        TRADECREW_BROKER__LIVE_TRADING="true",
        TRADECREW_BROKER__READ_ATTEMPTS="1",
    )

    async def main():  # type: ignore[no-untyped-def]
        async with mcp_session(home, "--live", env=env) as s:
            return await s.call_tool("get_account", {})

    try:
        result = anyio.run(main)
    finally:
        venue.stop()
    text = error_text(result).strip()
    assert "Alpaca 403: line1 error: second fake line" in text, text[:300]
    assert text.isprintable() and "PWNED" not in text and len(text) < 600
