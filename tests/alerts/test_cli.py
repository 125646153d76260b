"""``tradecrew alerts poll --once``: a person's button press, read by the command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.alerts.fake_telegram import ALERT_CHAT, TOKEN, FakeTelegram
from tests.alerts.helpers import GOLD

REPO = Path(__file__).resolve().parents[2]


def _env(home: Path, telegram: FakeTelegram, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADECREW_")}
    env.update(
        TRADECREW_HOME=str(home),
        TRADECREW_ALERTS__TELEGRAM_BOT_TOKEN=TOKEN,
        TRADECREW_ALERTS__TELEGRAM_CHAT_ID=ALERT_CHAT,
        TRADECREW_ALERTS__TELEGRAM_APPROVER_CHAT_ID=ALERT_CHAT,
        TRADECREW_ALERTS__TELEGRAM_API_URL=telegram.url,
        **extra,
    )
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradecrew", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_poll_once_approves_a_pressed_proposal(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradecrew.config import get_settings
    from tradecrew.desk import Desk

    env = _env(tmp_path / "home", telegram)
    for key, value in env.items():
        if key.startswith("TRADECREW_"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        desk = Desk.from_settings()
        made = desk.propose(GOLD)
        desk.close()  # delivers the alert with its buttons
    finally:
        get_settings.cache_clear()
    telegram.press(ALERT_CHAT, telegram.buttons()["approve"])
    run = _cli(env, "alerts", "poll", "--once", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    (result,) = report["results"]
    assert result["accepted"] and result["proposal_id"] == made.proposal_id
    assert result["status"] == "filled"
    assert TOKEN not in run.stdout + run.stderr


def test_poll_without_telegram_configured_is_bad_input(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADECREW_")}
    env["TRADECREW_HOME"] = str(tmp_path / "home")
    run = _cli(env, "alerts", "poll", "--once")
    assert run.returncode == 2
    assert run.stderr.startswith("error: Telegram is not configured")
    assert run.stderr.count("\n") == 1


def test_poll_with_the_bot_api_down_is_an_outage(telegram: FakeTelegram, tmp_path: Path) -> None:
    telegram.fail_with = 503
    run = _cli(_env(tmp_path / "home", telegram), "alerts", "poll", "--once")
    assert run.returncode == 3
    assert run.stderr == "error: the Telegram Bot API's getUpdates failed: HTTP 503\n"
    assert TOKEN not in run.stderr and "Traceback" not in run.stderr
