"""Webhook and Telegram delivery against the local stand-in; failures are counted and never
reach the desk; the bot token and the webhook URL never appear anywhere but on the wire."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.alerts.fake_telegram import ALERT_CHAT, HOOK_SECRET, TOKEN, FakeTelegram
from tests.alerts.helpers import GOLD, alert_desk, alert_settings
from tradecrew.alerts import Alerter, AlertEvent, AlertKind
from tradecrew.config import AlertSettings
from tradecrew.models import ProposalStatus

REPO = Path(__file__).resolve().parents[2]
CANARIES = (TOKEN, HOOK_SECRET, TOKEN.split(":")[1])


def _alerter(telegram: FakeTelegram, home: Path, **extra: object) -> Alerter:
    return Alerter(alert_settings(telegram, webhook=True, **extra), home=home)


def test_an_alert_reaches_the_webhook_as_json_and_the_telegram_chat(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    alerter = _alerter(telegram, tmp_path)
    alerter.send(AlertEvent(kind=AlertKind.FILL, title="filled 1 XAUUSD at 2400", text="buy"))
    assert alerter.flush(10)
    (posted,) = telegram.webhook
    assert posted["kind"] == "fill" and posted["title"] == "filled 1 XAUUSD at 2400"
    (message,) = telegram.messages
    assert str(message["chat_id"]) == ALERT_CHAT and "filled 1 XAUUSD" in message["text"]
    assert "reply_markup" not in message  # only a pending proposal gets buttons
    stats = alerter.stats()
    assert stats.delivered == {"webhook": 1, "telegram": 1} and not stats.failed
    alerter.close()


def test_duplicates_and_bursts_reach_the_sinks_once_and_summarised(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    clock = [0.0]
    settings = alert_settings(telegram, rate_limit=2, rate_window_seconds=60)
    alerter = Alerter(settings, home=tmp_path, clock=lambda: clock[0])
    for _ in range(5):
        alerter.send(AlertEvent(kind=AlertKind.STALE_DATA, title="XAUUSD data is stale"))
    for i in range(4):
        alerter.send(AlertEvent(kind=AlertKind.ERROR, title=f"error {i}"))
    assert alerter.flush(10)
    assert [m["text"].splitlines()[0] for m in telegram.messages] == [
        "[INFO] XAUUSD data is stale",
        "[INFO] error 0",
    ]
    clock[0] = 61.0
    assert alerter.flush(10)
    assert telegram.messages[-1]["text"].startswith("[WARNING] 3 more alerts held back")
    stats = alerter.stats()
    assert stats.deduplicated == 4 and stats.rate_limited == 3 and stats.received == 9
    alerter.close()


@pytest.mark.parametrize("failure", ["http_500", "unreachable", "wrong_token"])
def test_a_failing_sink_is_counted_and_the_desk_trades_on(
    telegram: FakeTelegram, tmp_path: Path, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    extra: dict[str, object] = {"webhook": True}
    if failure == "http_500":
        telegram.fail_with = 500
    elif failure == "unreachable":
        extra["telegram_api_url"] = "http://127.0.0.1:9"  # discard port: nothing listens
    desk = alert_desk(tmp_path, telegram, timeout_seconds=1.0, **extra)
    if failure == "wrong_token":
        desk.settings.alerts = desk.settings.alerts.model_copy(
            update={
                "telegram_bot_token": AlertSettings(
                    telegram_bot_token="9:CANARY-wrong"
                ).telegram_bot_token
            }
        )
        desk.alerts = Alerter(desk.settings.alerts, home=tmp_path)
    made = desk.propose(GOLD)
    assert made.status is ProposalStatus.PENDING
    assert desk.approve(made.proposal_id, actor="alice").status is ProposalStatus.FILLED
    assert desk.alerts.flush(15)
    stats = desk.alerts.stats()
    assert stats.failed["telegram"] >= 2  # the proposal and the fill
    assert stats.delivered["telegram"] == 0
    desk.close()
    _no_canary(caplog.text, stats.model_dump_json(), repr(desk.settings))


def _alerts_test(home: Path, **alerts: str) -> subprocess.CompletedProcess[str]:
    """``tradecrew alerts test`` in a process of its own, configured only by ``alerts``
    (``TRADECREW_ALERTS__<name>`` variables) on an empty ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADECREW_")}
    env["TRADECREW_HOME"] = str(home)
    env.update({f"TRADECREW_ALERTS__{name}": value for name, value in alerts.items()})
    return subprocess.run(
        [sys.executable, "-m", "tradecrew", "alerts", "test"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _no_canary(*texts: str) -> None:
    for text in texts:
        for canary in CANARIES:
            assert canary not in text


def test_secrets_never_reach_logs_outputs_or_files(
    telegram: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx logs each request's URL at INFO
    desk = alert_desk(tmp_path, telegram, webhook=True)
    made = desk.propose(GOLD)
    assert desk.alerts.flush(10)
    assert telegram.webhook and telegram.messages  # the secrets were used on the wire
    telegram.press(ALERT_CHAT, telegram.buttons()["reject"])
    from tradecrew.serve.telegram_poll import poll_once

    report = poll_once(desk, wait=0)
    assert report.results[0].accepted
    desk.close()
    files = "".join(
        p.read_text(errors="replace")
        for p in tmp_path.rglob("*")
        if p.is_file() and p.suffix != ".db"
    )
    _no_canary(
        caplog.text,
        repr(desk.settings),
        desk.settings.model_dump_json(),
        report.model_dump_json(),
        files,
    )
    assert made.proposal_id in telegram.messages[0]["text"]


def test_the_cli_test_alert_fails_in_one_line_without_echoing_secrets(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    telegram.fail_with = 502
    run = _alerts_test(
        tmp_path / "home",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_CHAT_ID=ALERT_CHAT,
        TELEGRAM_API_URL=telegram.url,
        WEBHOOK_URL=telegram.webhook_url,
    )
    assert run.returncode == 3, run.stderr
    assert run.stderr.startswith("error: alert delivery failed") and run.stderr.count("\n") == 1
    assert "HTTP 502" in run.stderr
    _no_canary(run.stdout, run.stderr)
    assert len(telegram.requests) == 2  # it did try both sinks


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TELEGRAM_API_URL", "http://api.telegram.org", "https"),
        ("TELEGRAM_CHAT_ID", "me", "integer"),
        ("WEBHOOK_URL", f"http://example.com/{HOOK_SECRET}", "https"),
    ],
)
def test_bad_alert_settings_are_refused_in_one_line(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    run = _alerts_test(tmp_path / "home", **{name: value})
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error: ") and message in run.stderr
    assert "Traceback" not in run.stderr
    _no_canary(run.stderr)
