"""Trading commands: propose, proposals, orders, positions, account (risk, audit: risk.py).

Every order goes through the desk's gate; these commands only ask it. Bad input gets one
line on stderr, exit code 2, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tradecrew.cli.common import (
    JsonOpt,
    console,
    emit_json,
    err_console,
    live_requested,
    unavailable_errors,
    user_errors,
)
from tradecrew.cli.tables import Col, fit_table, price_text
from tradecrew.text import one_line

if TYPE_CHECKING:
    from tradecrew.desk import Desk, ProposalOutcome

EXIT_NOT_SENT = 1
#: Proposal statuses after an approval whose order went out and stands (working or filled);
#: any other ends ``proposals approve`` with EXIT_NOT_SENT.
_SENT = ("submitted", "partially_filled", "filled")


@contextmanager
def open_desk(reconcile: bool = True) -> Iterator[Desk]:
    """The configured desk, reconciled with its broker first, closed afterwards. A broker
    that refuses or cannot be reached ends the command with one line (exit 2 or 3); a
    reconciliation that fails otherwise is reported, makes the desk REDUCING, and the
    command still runs (a person must be able to see and halt the desk)."""
    from tradecrew.desk import Desk
    from tradecrew.desk.reconcile import reconcile_safely, worth_telling

    with user_errors():
        desk = Desk.from_settings(live=live_requested())
    try:
        if reconcile:
            with user_errors():
                report = reconcile_safely(desk, reraise=unavailable_errors())
            if worth_telling(report):
                # stderr: stdout carries the command's answer (JSON with --json)
                err_console.print(
                    f"[yellow]reconcile:[/] {escape(one_line(report.message))}",
                    highlight=False,
                    soft_wrap=True,
                    emoji=False,
                )
        yield desk
    finally:
        desk.close()


def _status_phrase(status: str, message: str) -> str:
    """``vetoed by the risk engine``, ``filled (sent to the broker)``: the status once."""
    if not message:
        return f"[bold]{status}[/]"
    if message.split(" ", 1)[0] == status:
        rest = message[len(status) :]
        return f"[bold]{status}[/]{escape(rest)}"
    return f"[bold]{status}[/] ({escape(message)})"


def _print_outcome(outcome: ProposalOutcome) -> None:
    p = outcome.proposal
    console.print(
        f"[bold]{outcome.proposal_id}[/] {outcome.summary} -> "
        + _status_phrase(outcome.status.value, outcome.message),
        highlight=False,
    )
    if outcome.approved_quantity is not None and outcome.approved_quantity != p.quantity:
        console.print(f"  risk-approved quantity: {outcome.approved_quantity:g}")
    for reason in outcome.reasons:
        console.print(f"  - {escape(reason)}", highlight=False)
    if outcome.order:
        o = outcome.order
        console.print(
            f"  order {o.id} {o.status.value}: filled {o.filled_quantity:g}"
            + (f" @ {price_text(o.average_fill_price, o.symbol)}" if o.average_fill_price else "")
        )
    if outcome.status.value == "pending" and outcome.requires_human_approval:
        console.print(f"  approve with: tradecrew proposals approve {outcome.proposal_id}")


def propose(
    symbol: Annotated[str, typer.Argument(help="symbol or alias")],
    side: Annotated[str, typer.Argument(help="buy or sell")],
    quantity: Annotated[str, typer.Argument(help="units: shares, ounces, currency units, coins")],
    limit: Annotated[float | None, typer.Option("--limit", help="limit price")] = None,
    stop: Annotated[float | None, typer.Option("--stop", help="stop (trigger) price")] = None,
    sl: Annotated[float | None, typer.Option("--sl", help="stop-loss price")] = None,
    tp: Annotated[float | None, typer.Option("--tp", help="take-profit price")] = None,
    tif: Annotated[str, typer.Option("--tif", help="day | gtc | ioc | fok")] = "gtc",
    rationale: Annotated[str, typer.Option("--rationale", help="why")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Propose a trade; the risk engine decides at once, a human approves it after."""
    from tradecrew.instruments import normalize_symbol
    from tradecrew.models import OrderType, ProposalRequest

    with user_errors():
        qty = float(quantity)
        order_type = (
            OrderType.STOP_LIMIT
            if limit and stop
            else OrderType.LIMIT
            if limit
            else OrderType.STOP
            if stop
            else OrderType.MARKET
        )
        request = ProposalRequest(
            symbol=normalize_symbol(symbol),
            side=side.strip().lower(),
            quantity=qty,
            order_type=order_type,
            limit_price=limit,
            stop_price=stop,
            stop_loss=sl,
            take_profit=tp,
            time_in_force=tif.strip().lower(),
            rationale=rationale,
        )
    with open_desk() as desk, user_errors():
        outcome = desk.propose(request, actor="cli")
    emit_json(outcome) if as_json else _print_outcome(outcome)


proposals_app = typer.Typer(help="list, show, approve or reject proposals", no_args_is_help=False)


@proposals_app.callback(invoke_without_command=True)
def proposals_default(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List recent proposals (the default)."""
    if ctx.invoked_subcommand is None:
        proposals_list(status=None, limit=50, as_json=as_json)


@proposals_app.command("list")
def proposals_list(
    status: Annotated[str | None, typer.Option("--status", help="e.g. pending")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Recent proposals, newest first."""
    with open_desk(reconcile=False) as desk, user_errors():
        items = desk.proposals(status, limit)
    if as_json:
        emit_json(items)
        return
    cols = [
        Col("id"),
        Col("created", priority=3, wrap=True),
        Col("symbol"),
        Col("side"),
        Col("qty", justify="right"),
        Col("type", priority=2),
        Col("status"),
        Col("origin", priority=4),
    ]
    rows = [
        [
            p.id,
            f"{p.created_at:%Y-%m-%d %H:%M:%S}",
            p.symbol,
            p.side.value,
            f"{p.quantity:g}",
            p.order_type.value,
            p.status.value,
            p.origin.value,
        ]
        for p in items
    ]
    table = fit_table(cols, rows, console=console, title="proposals")
    console.print(table)


@proposals_app.command("show")
def proposals_show(proposal_id: Annotated[str, typer.Argument()], as_json: JsonOpt = False) -> None:
    """Why a proposal was approved or vetoed: decisions, verdicts, approvals, orders."""
    with open_desk(reconcile=False) as desk, user_errors():
        explanation = desk.explain(proposal_id)
    if as_json:
        emit_json(explanation)
        return
    p = explanation.proposal
    console.print(
        f"[bold]{p.id}[/] {p.side.value} {p.quantity:g} {p.symbol} ({explanation.mode.value}): "
        f"{escape(explanation.summary)}",
        highlight=False,
    )
    for d in explanation.decisions:
        console.print(f"  decision {d.id}: approved={d.approved} qty={d.approved_quantity:g}")
        for check in d.checks:
            mark = "ok " if check.passed else "NO "
            console.print(f"    {mark}{check.name}: {escape(check.reason)}", highlight=False)
    for o in explanation.orders:
        console.print(f"  order {o.id} {o.status.value} filled {o.filled_quantity:g}")


@proposals_app.command("approve")
def proposals_approve(
    proposal_id: Annotated[str, typer.Argument()], as_json: JsonOpt = False
) -> None:
    """Approve a pending proposal as a human; it goes through the risk gate to the broker."""
    with open_desk() as desk, user_errors():
        outcome = desk.approve(proposal_id, actor="cli", channel="cli")
    emit_json(outcome) if as_json else _print_outcome(outcome)
    if outcome.status.value not in _SENT:
        raise typer.Exit(EXIT_NOT_SENT)


@proposals_app.command("reject")
def proposals_reject(
    proposal_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Reject a pending proposal."""
    with open_desk(reconcile=False) as desk, user_errors():
        outcome = desk.reject(proposal_id, actor="cli", reason=reason)
    emit_json(outcome) if as_json else _print_outcome(outcome)


def orders(
    open_only: Annotated[bool, typer.Option("--open", help="only working orders")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Orders the desk placed (and external ones found at the broker)."""
    with open_desk() as desk, user_errors():
        items = desk.orders(open_only=open_only)
    if as_json:
        emit_json(items)
        return
    cols = [
        Col("id"),
        Col("symbol"),
        Col("side"),
        Col("qty", justify="right"),
        Col("type", priority=2),
        Col("status"),
        Col("filled", justify="right", priority=1),
        Col("avg price", justify="right", priority=1),
    ]
    rows = [
        [
            o.id,
            o.symbol,
            o.side.value,
            f"{o.quantity:g}",
            o.order_type.value,
            o.status.value,
            f"{o.filled_quantity:g}",
            price_text(o.average_fill_price, o.symbol) if o.average_fill_price else "-",
        ]
        for o in items
    ]
    table = fit_table(cols, rows, console=console, title=f"orders ({desk.mode.value})")
    console.print(table)


def positions(as_json: JsonOpt = False) -> None:
    """Open positions at the broker."""
    with open_desk() as desk, user_errors():
        items = desk.broker.positions()
    if as_json:
        emit_json(items)
        return
    cols = [
        Col("symbol"),
        Col("quantity", justify="right"),
        Col("avg price", justify="right"),
        Col("mark", justify="right", priority=1),
        Col("unrealized", justify="right"),
        Col("realized", justify="right", priority=2),
    ]
    rows = [
        [
            p.symbol,
            f"{p.quantity:g}",
            price_text(p.average_price, p.symbol),
            price_text(p.market_price, p.symbol) if p.market_price else "-",
            f"{p.unrealized_pnl:,.2f}",
            f"{p.realized_pnl:,.2f}",
        ]
        for p in items
    ]
    table = fit_table(cols, rows, console=console, title=f"positions ({desk.mode.value})")
    console.print(table)


def account(as_json: JsonOpt = False) -> None:
    """Cash, equity and buying power at the broker."""
    with open_desk() as desk, user_errors():
        acct = desk.broker.account()
    if as_json:
        emit_json(acct)
        return
    console.print(
        f"{acct.broker} {acct.account_id} ({acct.mode.value}): equity {acct.equity:,.2f} "
        f"{acct.currency}, cash {acct.cash:,.2f}, buying power {acct.buying_power:,.2f}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    # Negative numbers must reach the validator as values, not look like options.
    app.command(context_settings={"ignore_unknown_options": True})(propose)
    app.add_typer(proposals_app, name="proposals")
    app.command()(orders)
    app.command()(positions)
    app.command()(account)
    from tradecrew.cli import risk  # imports this module: loaded here, not at the top

    risk.register(app)
