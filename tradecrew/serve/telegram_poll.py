"""Telegram's approve/reject buttons as an approval channel (``telegram``).

``poll_once`` long-polls getUpdates for button presses and answers each. A press opens
something only when every check passes, in this order: it comes from the configured alert
chat; that chat is configured as the user's own approver chat; the callback data is ours
and its MAC verifies against the proposal's current risk-approved order hash; it was not
used before; it has not expired. Then the desk approves through the ``telegram`` channel,
which the desk (and the ledger, in the transaction that opens the order) accepts only while
the approver chat is configured: the same one rule as every other approval.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from tradecrew.alerts.signing import CallbackKey, parse, verify
from tradecrew.alerts.sinks import SinkError, TelegramBot
from tradecrew.config_sections import AlertSettings
from tradecrew.errors import TradecrewError
from tradecrew.models import ApprovalChannel, ProposalStatus, utcnow

if TYPE_CHECKING:
    from tradecrew.desk import Desk

STATE_FILE = "telegram-state.json"


class TelegramNotConfigured(TradecrewError):
    """Polling asked for without a bot token and chat id."""


class CallbackResult(BaseModel):
    """What one button press did: ``accepted`` only when the desk acted on it."""

    update_id: int
    chat_id: str | None = None
    proposal_id: str | None = None
    action: str | None = None
    accepted: bool = False
    reason: str = ""
    status: str | None = Field(None, description="the proposal's status afterwards")


class PollReport(BaseModel):
    updates: int = 0
    offset: int = 0
    results: list[CallbackResult] = Field(default_factory=list)


class _State:
    """The getUpdates offset and the MACs of buttons already used (until they expire),
    kept in the home folder so a restart neither replays a press nor re-reads old ones."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.used: dict[str, int] = {}
        with contextlib.suppress(FileNotFoundError, ValueError, TypeError):
            raw = json.loads(path.read_text())
            self.offset = int(raw.get("offset", 0))
            self.used = {str(k): int(v) for k, v in dict(raw.get("used", {})).items()}

    def use(self, mac: str, expires: int, now: datetime) -> None:
        """Note ``mac`` as used and write the state down before anything acts on it."""
        horizon = int(now.timestamp())
        self.used = {k: v for k, v in self.used.items() if v >= horizon}
        self.used[mac] = expires
        self.save()

    def save(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        # A fresh file: never written through a link left (or planted) under that name.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"offset": self.offset, "used": self.used}, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)


@contextlib.contextmanager
def _exclusive(home: Path) -> Iterator[None]:
    """One poller per home at a time (the serve loop, or a manual ``--once``)."""
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / "telegram.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def handle_callback(
    desk: Desk,
    settings: AlertSettings,
    key: CallbackKey,
    state: _State,
    update_id: int,
    query: dict[str, Any],
    now: datetime,
) -> CallbackResult:
    """Check one button press and act on it when every check passes (see the module)."""
    message = query.get("message") if isinstance(query.get("message"), dict) else {}
    chat = (message or {}).get("chat") or {}
    chat_id = str(chat.get("id")) if isinstance(chat, dict) and "id" in chat else None
    result = CallbackResult(update_id=update_id, chat_id=chat_id)

    def refuse(reason: str) -> CallbackResult:
        result.reason = reason
        return result

    if chat_id is None or chat_id != settings.telegram_chat_id:
        return refuse("the button was not pressed in the configured alert chat")
    if not settings.telegram_approves or chat_id != settings.telegram_approver_chat_id:
        return refuse(
            "this chat is not configured as the user's approver chat "
            "(TRADECREW_ALERTS__TELEGRAM_APPROVER_CHAT_ID): approve from the CLI"
        )
    callback = parse(query.get("data"))
    if callback is None:
        return refuse("not a tradecrew button")
    result.proposal_id, result.action = callback.proposal_id, callback.verb
    try:
        record = desk.ledger.proposal_record(callback.proposal_id)
    except Exception:
        return refuse("no such proposal")
    decision = record.latest_decision
    if decision is None or not verify(key, callback, decision.order_hash):
        return refuse("the button's signature does not match this proposal's current terms")
    if callback.mac in state.used:
        return refuse("this button was already used")
    if callback.expires <= int(now.timestamp()):
        return refuse(f"the button expired at {callback.expires_at:%Y-%m-%d %H:%M:%S} UTC")
    state.use(callback.mac, callback.expires, now)
    sender = query.get("from") or {}
    actor = f"telegram:{sender.get('id', chat_id) if isinstance(sender, dict) else chat_id}"
    try:
        if callback.action == "y":
            # The terms the button was signed for, which the person saw in the message.
            outcome = desk.approve(
                callback.proposal_id,
                actor=actor,
                channel=ApprovalChannel.TELEGRAM,
                order_hash=decision.order_hash,
            )
        else:
            outcome = desk.reject(callback.proposal_id, actor=actor, reason="rejected on Telegram")
    except TradecrewError as exc:
        return refuse(str(exc))
    if outcome.status is ProposalStatus.PENDING:  # decided again since the message: not sent
        return refuse(outcome.message)
    result.accepted, result.status = True, outcome.status.value
    result.reason = outcome.message
    return result


def poll_once(desk: Desk, *, wait: float | None = None) -> PollReport:
    """Read the button presses waiting at the Bot API (long-polling up to ``wait`` seconds,
    the ``poll_seconds`` setting by default), act on each, answer each. For the serve loop
    to schedule, and ``tradecrew alerts poll --once``. SinkError when the API fails."""
    settings = desk.settings.alerts
    if not settings.telegram_enabled:
        raise TelegramNotConfigured(
            "Telegram is not configured: set TRADECREW_ALERTS__TELEGRAM_BOT_TOKEN and "
            "TRADECREW_ALERTS__TELEGRAM_CHAT_ID"
        )
    assert settings.telegram_bot_token is not None
    bot = TelegramBot(
        settings.telegram_api_url, settings.telegram_bot_token, settings.timeout_seconds
    )
    home = desk.settings.home
    wait = settings.poll_seconds if wait is None else wait
    try:
        with _exclusive(home):
            state = _State(home / STATE_FILE)
            key = CallbackKey.for_home(home)
            payload = {
                "offset": state.offset,
                "timeout": int(wait),
                "allowed_updates": ["callback_query"],
            }
            updates = bot.api("getUpdates", payload, wait=wait)
            report = PollReport(updates=len(updates or []), offset=state.offset)
            for update in updates or []:
                if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                    continue
                update_id = update["update_id"]
                state.offset = max(state.offset, update_id + 1)
                state.save()  # a press is read once, even if acting on it fails
                query = update.get("callback_query")
                if not isinstance(query, dict):
                    continue
                result = handle_callback(desk, settings, key, state, update_id, query, utcnow())
                report.results.append(result)
                _answer(bot, query, result)
            report.offset = state.offset
            return report
    finally:
        bot.close()


def _answer(bot: TelegramBot, query: dict[str, Any], result: CallbackResult) -> None:
    """Tell the presser what happened (the button stops spinning); best effort."""
    if "id" not in query:
        return
    text = f"{result.action}d" if result.accepted and result.action else f"refused: {result.reason}"
    with contextlib.suppress(SinkError):
        bot.api("answerCallbackQuery", {"callback_query_id": query["id"], "text": text[:200]})


def poll_job(desk: Desk) -> PollReport | None:
    """For the serve scheduler: one poll without a long wait (shutdown stays prompt); None
    when Telegram approvals are not configured. Never raises: a Bot API failure is counted
    in ``desk.alerts.stats().failed["telegram_poll"]`` and logged by type."""
    if not desk.settings.alerts.telegram_approves:
        return None
    try:
        return poll_once(desk, wait=0)
    except Exception as exc:
        desk.alerts.record_failure("telegram_poll", exc)
        return None
