"""``tradecrew mcp``: serve the desk to Claude Desktop or any MCP client."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from tradecrew.cli.common import fail, live_requested, user_errors
from tradecrew.text import one_line

if TYPE_CHECKING:
    from tradecrew.desk import Desk


def _open_desk(live: bool) -> Desk:
    from tradecrew.desk import Desk
    from tradecrew.desk.reconcile import reconcile_safely, worth_telling
    from tradecrew.runtime import settle_gc

    desk = Desk.from_settings(live=live)
    # A reconciliation that fails is reported and never keeps the desk shut: the kill
    # switch must work whatever the broker reports (reconcile_safely says what it does).
    report = reconcile_safely(desk)
    settle_gc()
    if worth_telling(report):
        print(f"tradecrew: reconcile on start: {one_line(report.message)}", file=sys.stderr)
    return desk


def mcp(
    read_only: Annotated[
        bool, typer.Option("--read-only", help="register no state-changing tools")
    ] = False,
    transport: Annotated[str, typer.Option("--transport", help="stdio | http")] = "stdio",
    host: Annotated[str, typer.Option("--host", help="http bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8765,
    tls_certfile: Annotated[
        Path | None, typer.Option("--tls-certfile", help="http: serve HTTPS with this certificate")
    ] = None,
    tls_keyfile: Annotated[
        Path | None, typer.Option("--tls-keyfile", help="http: the certificate's private key")
    ] = None,
    insecure_network: Annotated[
        bool,
        typer.Option("--insecure-network", help="http: allow plain HTTP on a non-loopback address"),
    ] = False,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option("--allowed-host", help="http: another Host name clients use (repeatable)"),
    ] = None,
    live: Annotated[
        bool,
        typer.Option("--live", help="trade a live account (also needs the live_trading setting)"),
    ] = False,
) -> None:
    """Start the MCP server (stdio by default; http needs TRADECREW_MCP_TOKEN, and TLS or
    --insecure-network on a non-loopback address)."""
    if transport not in ("stdio", "http"):
        fail("--transport takes stdio or http")
    import gc

    # The SDK's imports build tens of thousands of objects; collecting between them only
    # delays the first answer to the client (about a tenth of the start).
    gc.disable()
    try:
        from tradecrew.config import get_settings
        from tradecrew.mcp_server import build_server
        from tradecrew.mcp_server.auth import HttpAuthError
        from tradecrew.mcp_server.http import HttpOptions, serve
        from tradecrew.mcp_server.lazy import LazyDesk
    finally:
        gc.enable()

    live = live or live_requested()
    if live and not get_settings().broker.live_trading:
        fail("live trading needs both TRADECREW_BROKER__LIVE_TRADING=true and --live")
    if get_settings().broker.name != "paper":
        # The brokers package loads pandas and the paper venue: the default (paper) server
        # answers its client first and opens them on first use.
        from tradecrew.brokers import check_endpoint

        with user_errors():
            # What is known without the network refuses now (a live Alpaca endpoint without
            # both opt-ins); the desk itself opens on first use and refuses the same way there.
            check_endpoint(get_settings(), live)
    desk = LazyDesk(lambda: _open_desk(live))
    with user_errors(HttpAuthError):
        http = HttpOptions(
            host=host,
            port=port,
            tls_certfile=tls_certfile,
            tls_keyfile=tls_keyfile,
            insecure_network=insecure_network,
            allowed_hosts=tuple(allowed_host or ()),
        )
        server = build_server(
            cast("Desk", desk),
            read_only=read_only,
            transport=transport,  # type: ignore[arg-type]
            http=http,
            # Known without opening the desk: auto-approval works on paper only, and the
            # desk refuses to open on a live account without --live.
            places_at_once=get_settings().broker.auto_approve_paper and not live,
        )
    if transport == "http" and http.plain_on_network:
        print(
            f"warning: serving plain HTTP on {host}, which other machines can reach: the bearer "
            "token and every trade cross the network unencrypted (--insecure-network)",
            file=sys.stderr,
        )
    try:
        if transport == "stdio":
            if sys.stdin.isatty():
                # A person started it by hand: say why nothing seems to happen.
                print(
                    "tradecrew mcp: waiting for an MCP client on stdin (stdio transport); "
                    "add it to your client's configuration, or press Ctrl-C to stop",
                    file=sys.stderr,
                )
            server.run("stdio")
        else:
            serve(server, http)
    finally:
        desk.close()


def register(app: typer.Typer) -> None:
    app.command()(mcp)
