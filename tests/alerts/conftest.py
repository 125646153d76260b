"""Alert tests: a Bot API stand-in on 127.0.0.1 and desks whose alerts go to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alerts.fake_telegram import FakeTelegram

#: Canary secrets: they must never appear in any log, message, output or file but the
#: requests that need them.
TOKEN = "123456:CANARY-bot-token-7f3e9a"
HOOK_SECRET = "CANARY-hook-token-c41d"
ALERT_CHAT = "5551234"


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram(token=TOKEN, webhook_path=f"/hook/{HOOK_SECRET}").start()
    yield fake
    fake.stop()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path
