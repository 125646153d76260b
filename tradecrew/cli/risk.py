"""Risk and audit commands: ``risk`` (status, kill switch) and ``audit`` (verify, log).

Promises the same command names, options, output and exit codes as when they lived in
``tradecrew.cli.desk``; each command opens the desk through ``open_desk`` and only asks it.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from tradecrew.cli.common import (
    JsonOpt,
    console,
    emit_json,
    err_console,
    fail,
    unavailable_errors,
    user_errors,
)
from tradecrew.cli.desk import open_desk
from tradecrew.errors import EXIT_NOT_DONE, EXIT_UNAVAILABLE
from tradecrew.text import one_line

risk_app = typer.Typer(help="risk status and the kill switch", no_args_is_help=False)


@risk_app.callback(invoke_without_command=True)
def risk_default(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show the risk status (the default)."""
    if ctx.invoked_subcommand is None:
        risk_status(as_json=as_json)


@risk_app.command("status")
def risk_status(as_json: JsonOpt = False) -> None:
    """Trading state, kill switch, exposure and limits."""
    with open_desk() as desk, user_errors():
        status = desk.risk_status()
    if as_json:
        emit_json(status)
        return
    console.print(
        f"trading state [bold]{status.trading_state.value}[/] ({status.mode.value}, "
        f"{status.broker}); kill switch {'ON' if status.kill_switch else 'off'}"
        + (f" - {status.reason}" if status.reason else ""),
        highlight=False,
    )
    console.print(
        f"gross exposure {status.gross_exposure:,.0f}, net {status.net_exposure:,.0f}, "
        f"open orders {status.open_orders}"
    )
    for ccy, value in status.exposure.items():
        console.print(f"  {ccy}: {value:,.0f}")
    from tradecrew.cli.risk_view import limits_table

    console.print(limits_table(status, console))


@risk_app.command("kill-switch")
def risk_kill_switch(
    state: Annotated[str, typer.Argument(help="on | off")],
    reason: Annotated[str, typer.Option("--reason", help="why (required)")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Halt all trading (cancels open orders) or, as a human, resume it."""
    value = state.strip().lower()
    if value not in ("on", "off"):
        fail("kill-switch takes 'on' or 'off'")
    if not reason.strip():
        fail("--reason is required to change the kill switch")
    from sqlalchemy.exc import OperationalError

    with open_desk(reconcile=False) as desk, user_errors():
        try:
            status = desk.set_kill_switch(value == "on", reason, actor="cli", channel="cli")
        except OperationalError as exc:
            # Another process holds the ledger's write lock past the busy timeout (stuck or
            # paused mid-write): nothing changed, and a person must know the switch is not on.
            now = desk.ledger.get_trading_state().state.value
            fail(
                f"the kill switch could not be turned {value}: the ledger could not be "
                f"written ({one_line(str(exc.orig))}); trading is still {now}. Retry, or stop "
                "the process that holds the ledger",
                EXIT_UNAVAILABLE,
            )
        except unavailable_errors() as exc:
            # The state change is on record before the broker is asked anything: say so, or
            # a person would think the halt failed during the very outage it is meant for.
            now = desk.ledger.get_trading_state().state.value
            fail(
                f"trading is now {now}, but the broker could not be reached to cancel open "
                f"orders or report the account: {exc}",
                EXIT_UNAVAILABLE,
            )
    if as_json:
        emit_json(status)
    else:
        console.print(
            f"kill switch {'ON' if status.kill_switch else 'off'}: trading "
            f"{status.trading_state.value}"
        )
        if status.closed_unsent:
            console.print(
                f"  closed before they were sent: {', '.join(status.closed_unsent)}",
                highlight=False,
            )
    if status.cancel_failed:
        # The halt itself is on record; what it could not do is named, and the exit code
        # says the command did not do all it was asked.
        named = "; ".join(
            f"{oid} ("
            + (
                "sent before the halt, not at the broker yet: cancelled when it arrives"
                if oid in status.in_flight
                else one_line(why)  # the broker's words: one line, bounded
            )
            + ")"
            for oid, why in status.cancel_failed.items()
        )
        err_console.print(
            f"[yellow]warning:[/] trading is {status.trading_state.value}, but "
            f"{len(status.cancel_failed)} open order(s) could not be cancelled: {escape(named)}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_NOT_DONE)


audit_app = typer.Typer(help="the hash-chained audit log", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(as_json: JsonOpt = False) -> None:
    """Check the keyed audit chain, the anchor file and the state tables against the log;
    exit 1 with one line per problem if anything was altered, removed or added."""
    with open_desk(reconcile=False) as desk, user_errors():
        result = desk.ledger.verify_audit_chain()
    if as_json:
        emit_json(result)
    elif result.ok:
        anchored = "" if result.anchored_seq is None else f", anchored to seq {result.anchored_seq}"
        console.print(
            f"audit log intact: {result.rows_checked} rows verified{anchored}; "
            "state tables agree with it",
            highlight=False,
        )
        if result.unkeyed_rows:
            console.print(
                f"note: the first {result.unkeyed_rows} rows predate the audit key; only the "
                "keyed rows after them (once there are any) protect them",
                highlight=False,
            )
    else:
        for problem in result.problems:
            err_console.print(
                f"[bold red]error:[/] audit: {escape(problem)}", highlight=False, soft_wrap=True
            )
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("log")
def audit_log(
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 20,
    as_json: JsonOpt = False,
) -> None:
    """The most recent audit rows."""
    with open_desk(reconcile=False) as desk, user_errors():
        rows = desk.ledger.audit_log(limit)
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        console.print(
            f"{r.seq:>6} {r.timestamp:%Y-%m-%d %H:%M:%S} {r.actor:<12} {r.action} "
            f"{r.entity} {r.entity_id}",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add the ``risk`` and ``audit`` command groups to ``app``."""
    app.add_typer(risk_app, name="risk")
    app.add_typer(audit_app, name="audit")
