"""Governance commands: ``components`` (toggles, versions, rollback), ``automl`` and ``ab``.

Each change is a new configuration version in the ledger, audited as the CLI's (a person's
channel) with its reason; ``components rollback`` undoes the latest. Bad input gets one
line on stderr and exit code 2, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tradecrew.cli.common import JsonOpt, console, emit_json, user_errors
from tradecrew.cli.desk import open_desk

if TYPE_CHECKING:
    from tradecrew.config import Settings
    from tradecrew.ledger import Ledger
    from tradecrew.research.configs import ConfigChange

CLI = "cli"
ReasonOpt = Annotated[str, typer.Option("--reason", help="why (kept in the audit log)")]

components_app = typer.Typer(help="analysis components on/off, and configuration versions")
automl_app = typer.Typer(help="tune the fusion weights, adopt only what passes the guards")
ab_app = typer.Typer(help="champion/challenger on paper, with automatic rollback")


def _conflicts() -> tuple[type[BaseException], ...]:
    from tradecrew.ledger import Conflict

    return (Conflict,)


@contextmanager
def _ledger() -> Iterator[tuple[Settings, Ledger]]:
    from tradecrew.config import get_settings
    from tradecrew.ledger import Ledger

    with user_errors():
        settings = get_settings()
        ledger = Ledger.from_settings(settings)
    try:
        yield settings, ledger
    finally:
        ledger.close()


# ------------------------------------------------------------------ components


@components_app.command("list")
def components_list(as_json: JsonOpt = False) -> None:
    """Every component, on or off, with its fusion weight and thresholds."""
    from tradecrew.research.configs import components_view

    with _ledger() as (settings, ledger), user_errors():
        view = components_view(settings, ledger)
    if as_json:
        emit_json(view)
        return
    where = "the settings" if view.version == 0 else f"configuration version {view.version}"
    console.print(f"components in force: {where}", highlight=False)
    table = Table("component", "enabled", "weight", "thresholds", "risk gate")
    for c in view.components:
        table.add_row(
            c.name,
            "on" if c.enabled else "off",
            "-" if c.weight is None else f"{c.weight:g}",
            ", ".join(f"{k}={v:g}" for k, v in c.thresholds.items()) or "-",
            "reads it: tighten only" if c.risk_gate else "",
        )
    console.print(table)


def _toggle(name: str, enabled: bool, reason: str, as_json: bool) -> None:
    from tradecrew.research.configs import set_component

    with _ledger() as (settings, ledger), user_errors(*_conflicts()):
        change = set_component(
            ledger, settings, name, enabled, actor=CLI, channel=CLI, reason=reason
        )
    _show_change(change, as_json)


def _show_change(change: ConfigChange, as_json: bool) -> None:
    if as_json:
        emit_json(change)
    else:
        console.print(escape(change.message), highlight=False)


@components_app.command("enable")
def components_enable(
    name: Annotated[str, typer.Argument(help="component name (see `components list`)")],
    reason: ReasonOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Turn a component on (a new configuration version)."""
    _toggle(name, True, reason, as_json)


@components_app.command("disable")
def components_disable(
    name: Annotated[str, typer.Argument(help="component name (see `components list`)")],
    reason: ReasonOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Turn a component off (a new configuration version); those the risk gate reads stay."""
    _toggle(name, False, reason, as_json)


@components_app.command("versions")
def components_versions(
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Configuration versions, newest (the active one) first."""
    with _ledger() as (_settings, ledger), user_errors():
        versions = ledger.config_versions(limit)
    if as_json:
        emit_json(versions)
        return
    if not versions:
        console.print("no configuration version yet: the settings are in force")
    for v in versions:
        console.print(
            f"v{v.version} {v.kind} by {escape(v.actor)} ({v.channel}) "
            f"{v.created_at:%Y-%m-%d %H:%M} - {escape(v.reason)}",
            highlight=False,
        )


@components_app.command("rollback")
def components_rollback(reason: ReasonOpt = "", as_json: JsonOpt = False) -> None:
    """Go back to the configuration before the active one (a new version restoring it)."""
    from tradecrew.research.configs import rollback

    with _ledger() as (settings, ledger), user_errors(*_conflicts()):
        change = rollback(ledger, settings, actor=CLI, channel=CLI, reason=reason)
    _show_change(change, as_json)


# ------------------------------------------------------------------ automl


@automl_app.command("run")
def automl_run(
    symbols: Annotated[list[str] | None, typer.Argument(help="default: settings.symbols")] = None,
    trials: Annotated[int | None, typer.Option("--trials", min=1, max=100_000)] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", min=1)] = None,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Tune now; adopt the weights only if they pass the overfitting guards."""
    from tradecrew.research import automl

    with open_desk(reconcile=False) as desk, user_errors(*_conflicts()):
        outcome = automl.run(
            desk,
            symbols or None,
            actor=CLI,
            channel=CLI,
            n_trials=trials,
            timeout=timeout,
            seed=seed,
        )
    if as_json:
        emit_json(outcome)
        return
    console.print(escape(outcome.message), highlight=False)
    for c in outcome.candidates:
        console.print(
            f"  {c.symbol}: {c.trials} trials, OOS Sharpe {_f(c.oos_sharpe)}, DSR {_f(c.dsr)}, "
            f"PBO {_f(c.pbo)}, {c.trades} trades -> {'passed' if c.passed else 'refused'}",
            highlight=False,
        )


@automl_app.command("history")
def automl_history(
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
    as_json: JsonOpt = False,
) -> None:
    """AutoML runs, newest first, with their evidence."""
    with _ledger() as (_settings, ledger), user_errors():
        runs = ledger.runs_of_kind("automl", limit)
    if as_json:
        emit_json(runs)
        return
    if not runs:
        console.print("no AutoML run yet")
    for r in runs:
        summary = r.summary or {}
        adopted = summary.get("version")
        console.print(
            f"{r.id} {r.started_at:%Y-%m-%d %H:%M} {r.status.value} "
            f"({r.detail.get('trigger', '?')}): "
            + (f"adopted v{adopted}" if summary.get("adopted") else "nothing adopted")
            + (f" - {escape(r.error)}" if r.error else ""),
            highlight=False,
        )


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


# ------------------------------------------------------------------ ab


@ab_app.command("start")
def ab_start(
    challenger: Annotated[
        str, typer.Option("--challenger", help="a configuration version number, or traditional")
    ],
    symbols: Annotated[
        list[str] | None, typer.Option("--symbol", help="repeat; default settings.symbols")
    ] = None,
    timeframe: Annotated[str | None, typer.Option("--timeframe", "-t")] = None,
    since: Annotated[
        datetime | None,
        typer.Option("--since", help="shadow bars closed from this time (default: now)"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the live configuration against a challenger in shadow, over the same bars."""
    from datetime import UTC

    from tradecrew.research import ab

    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    with open_desk(reconcile=False) as desk, user_errors(*_conflicts()):
        experiment = ab.start(
            desk, challenger, actor=CLI, symbols=symbols, timeframe=timeframe, since=since
        )
    if as_json:
        emit_json(experiment)
    else:
        console.print(
            f"A/B {experiment.id}: champion v{experiment.champion} (live) against "
            f"{experiment.challenger} on {', '.join(experiment.symbols)} {experiment.timeframe}",
            highlight=False,
        )


@ab_app.command("status")
def ab_status(
    observe: Annotated[
        bool, typer.Option("--observe/--no-observe", help="record new shadow bars first")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Both arms with 95 % confidence intervals of their Sharpe (block bootstrap)."""
    from tradecrew.research import ab

    with open_desk(reconcile=False) as desk, user_errors():
        running = desk.ledger.running_experiment()
        if observe and running is not None:
            ab.observe(desk, running)
        st = ab.status(desk)
    if as_json:
        emit_json(st)
        return
    console.print(escape(st.message), highlight=False)
    if st.experiment is None:
        return
    e = st.experiment
    console.print(
        f"{e.id} ({e.status}): champion v{e.champion} (live) vs {e.challenger}; {st.ci_method}",
        highlight=False,
    )
    for label, arm in (("champion", st.champion), ("challenger", st.challenger)):
        if arm is None:
            continue
        ci = "-" if arm.sharpe_ci is None else f"[{arm.sharpe_ci[0]:.2f}, {arm.sharpe_ci[1]:.2f}]"
        console.print(
            f"  {label}: {arm.observations} bars, Sharpe {_f(arm.sharpe)} CI {ci}, return "
            f"{arm.total_return:.2%}, max drawdown {arm.max_drawdown:.2%}",
            highlight=False,
        )
    console.print(f"  rule: {st.rule}", highlight=False)


@ab_app.command("stop")
def ab_stop(reason: ReasonOpt = "", as_json: JsonOpt = False) -> None:
    """Stop the running experiment (the live configuration stays as it is)."""
    from tradecrew.research import ab

    with open_desk(reconcile=False) as desk, user_errors(*_conflicts()):
        stopped = ab.stop(desk, actor=CLI, reason=reason)
    if as_json:
        emit_json(stopped)
    else:
        console.print(f"A/B {stopped.id} stopped", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(components_app, name="components")
    app.add_typer(automl_app, name="automl")
    app.add_typer(ab_app, name="ab")
