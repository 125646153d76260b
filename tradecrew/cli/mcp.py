"""``tradecrew mcp``: serve the desk to Claude Desktop or any MCP client."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, cast

import typer

from tradecrew.cli.common import fail, user_errors

if TYPE_CHECKING:
    from tradecrew.desk import Desk


def _open_desk(live: bool) -> Desk:
    from tradecrew.desk import Desk
    from tradecrew.runtime import settle_gc

    desk = Desk.from_settings(live=live)
    report = desk.reconcile()
    settle_gc()
    if report.position_mismatches or report.external_orders or report.never_sent:
        print(f"tradecrew: reconcile on start: {report.message}", file=sys.stderr)
    return desk


def mcp(
    read_only: Annotated[
        bool, typer.Option("--read-only", help="register no state-changing tools")
    ] = False,
    transport: Annotated[str, typer.Option("--transport", help="stdio | http")] = "stdio",
    host: Annotated[str, typer.Option("--host", help="http bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8765,
    live: Annotated[
        bool,
        typer.Option("--live", help="trade a live account (also needs the live_trading setting)"),
    ] = False,
) -> None:
    """Start the MCP server (stdio by default; http needs TRADECREW_MCP_TOKEN)."""
    if transport not in ("stdio", "http"):
        fail("--transport takes stdio or http")
    from tradecrew.config import get_settings
    from tradecrew.mcp_server import build_server
    from tradecrew.mcp_server.auth import HttpAuthError
    from tradecrew.mcp_server.lazy import LazyDesk

    if live and not get_settings().broker.live_trading:
        fail("live trading needs both TRADECREW_BROKER__LIVE_TRADING=true and --live")
    desk = LazyDesk(lambda: _open_desk(live))
    with user_errors(HttpAuthError):
        server = build_server(
            cast("Desk", desk),
            read_only=read_only,
            transport=transport,  # type: ignore[arg-type]
            host=host,
            port=port,
        )
    try:
        server.run("stdio" if transport == "stdio" else "streamable-http")
    finally:
        desk.close()


def register(app: typer.Typer) -> None:
    app.command()(mcp)
