"""``tradecrew alerts``: send a test alert; read Telegram's approve/reject button presses."""

from __future__ import annotations

from typing import Annotated

import typer

from tradecrew.cli.common import JsonOpt, console, emit_json, fail, user_errors

alerts_app = typer.Typer(
    help="Alerts (webhook, Telegram) and Telegram's approve/reject buttons.",
    no_args_is_help=True,
)


@alerts_app.command("test")
def test_alert(
    message: Annotated[str, typer.Option("--message", help="the alert's text")] = "test alert",
    as_json: JsonOpt = False,
) -> None:
    """Send one alert through every configured sink and say how each did (exit 3 if one
    failed, 2 if none is configured)."""
    from tradecrew.alerts import Alerter, AlertEvent, AlertKind
    from tradecrew.config import get_settings
    from tradecrew.errors import EXIT_UNAVAILABLE

    with user_errors():
        settings = get_settings()
        alerter = Alerter(settings.alerts, home=settings.home)
        if not alerter.enabled:
            fail(
                "no alert sink is configured: set TRADECREW_ALERTS__WEBHOOK_URL, or "
                "TRADECREW_ALERTS__TELEGRAM_BOT_TOKEN and TRADECREW_ALERTS__TELEGRAM_CHAT_ID"
            )
        alerter.send(AlertEvent(kind=AlertKind.ERROR, title="tradecrew test alert", text=message))
        alerter.close(timeout=settings.alerts.timeout_seconds * 3)
    stats = alerter.stats()
    if as_json:
        emit_json(stats)
    else:
        for sink in stats.sinks:
            ok = stats.delivered[sink] > 0
            console.print(f"{sink}: {'delivered' if ok else 'failed'}", highlight=False)
    if stats.failed:
        fail(f"alert delivery failed ({stats.last_error})", EXIT_UNAVAILABLE)


@alerts_app.command("poll")
def poll(
    once: Annotated[
        bool, typer.Option("--once", help="read the presses waiting now, act, and exit")
    ] = False,
    wait: Annotated[
        float | None,
        typer.Option("--wait", min=0, max=50, help="long-poll seconds (default: the setting)"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Act on Telegram approve/reject button presses (the serve loop does this by itself).
    Only the configured approver chat's signed, unexpired, unused buttons open anything."""
    from tradecrew.cli.desk import open_desk
    from tradecrew.serve.telegram_poll import TelegramNotConfigured, poll_once

    with open_desk(reconcile=False) as desk:
        while True:
            with user_errors(TelegramNotConfigured):
                report = poll_once(desk, wait=0.0 if once and wait is None else wait)
            if as_json:
                emit_json(report)
            else:
                for r in report.results:
                    verdict = "done" if r.accepted else "refused"
                    console.print(
                        f"{r.action or 'press'} {r.proposal_id or '-'}: {verdict}: {r.reason}",
                        highlight=False,
                        markup=False,
                    )
            if once:
                return


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")


__all__ = ["register"]
