"""``tradecrew.alerts.send``: an alert from anywhere, to the sinks the environment configures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.alerts.fake_telegram import ALERT_CHAT, FakeTelegram


def test_the_public_send_uses_the_environments_settings(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tradecrew.alerts as alerts
    from tradecrew.config import get_settings

    monkeypatch.setenv("TRADECREW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TRADECREW_ALERTS__WEBHOOK_URL", telegram.webhook_url)
    monkeypatch.setattr(alerts, "_default", [])
    get_settings.cache_clear()
    try:
        alerts.send(alerts.AlertEvent(kind="stale_data", title="XAUUSD quote 400 s old"))
        assert alerts.default_alerter().flush(10)
        (posted,) = telegram.webhook
        assert posted["kind"] == "stale_data"
        alerts.default_alerter().close()
    finally:
        get_settings.cache_clear()
    assert ALERT_CHAT not in str(posted)  # the webhook alone: no Telegram configured
