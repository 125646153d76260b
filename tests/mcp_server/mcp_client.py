"""A real MCP client session over stdio against ``python -m tradecrew mcp``."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, ElicitResult

REPO = Path(__file__).resolve().parents[2]


def server_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADECREW_")}
    env["TRADECREW_HOME"] = str(home)
    env.update(extra)
    return env


@asynccontextmanager
async def mcp_session(
    home: Path,
    *args: str,
    env: dict[str, str] | None = None,
    elicitation: Callable[..., Awaitable[Any]] | None = None,
    module: str = "tradecrew",
) -> AsyncIterator[ClientSession]:
    """A session with ``python -m <module> mcp ARGS``; ``elicitation`` declares the client's
    support for asking the user (the SDK advertises it only when a callback is given)."""
    env = dict(env or server_env(home))
    # Test-only server modules (tests.mcp_server.*) import from the checkout.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", module, "mcp", *args],
        env=env,
        cwd=str(home.parent),
    )
    async with stdio_client(params) as (read, write):
        kwargs: dict[str, Any] = {}
        if elicitation is not None:
            kwargs["elicitation_callback"] = elicitation
        async with ClientSession(read, write, **kwargs) as session:
            await session.initialize()
            yield session


async def accept(context: Any, params: Any) -> ElicitResult:
    """The user confirms whatever the client asks."""
    return ElicitResult(action="accept", content={"confirm": True})


async def decline(context: Any, params: Any) -> ElicitResult:
    """The user says no to whatever the client asks."""
    return ElicitResult(action="decline")


def payload(result: CallToolResult) -> dict[str, Any]:
    """The structured result of a successful call (fails loudly on a tool error)."""
    assert not result.isError, result.content
    if result.structuredContent is not None:
        return result.structuredContent
    return json.loads(result.content[0].text)  # type: ignore[union-attr]


def error_text(result: CallToolResult) -> str:
    assert result.isError, result.structuredContent
    return " ".join(getattr(c, "text", "") for c in result.content)
