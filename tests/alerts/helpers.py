"""A desk whose alerts go to the Bot API stand-in, and button presses against it."""

from __future__ import annotations

from pathlib import Path

from tests.alerts.fake_telegram import ALERT_CHAT, TOKEN, FakeTelegram
from tests.desk.helpers import build_desk, make_settings
from tradecrew.brokers.paper import PaperBroker
from tradecrew.config import AlertSettings
from tradecrew.desk import Desk
from tradecrew.models import ProposalRequest

GOLD = ProposalRequest(symbol="XAUUSD", side="buy", quantity=1)
_UNSET = object()


def alert_settings(
    telegram: FakeTelegram,
    *,
    chat: str = ALERT_CHAT,
    approver: str | object | None = _UNSET,
    webhook: bool = False,
    **extra: object,
) -> AlertSettings:
    values: dict[str, object] = {
        "telegram_bot_token": TOKEN,
        "telegram_chat_id": chat,
        "telegram_approver_chat_id": chat if approver is _UNSET else approver,
        "telegram_api_url": telegram.url,
        "webhook_url": telegram.webhook_url if webhook else None,
    }
    return AlertSettings.model_validate({**values, **extra})


def alert_desk(
    home: Path,
    telegram: FakeTelegram,
    broker_cls: type[PaperBroker] = PaperBroker,
    **alerts: object,
) -> Desk:
    settings = make_settings(home)
    settings.alerts = alert_settings(telegram, **alerts)
    return build_desk(home, settings, broker_cls=broker_cls)
