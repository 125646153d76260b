"""The front ends' settings: the MCP server, ``tradecrew serve`` and the alert channels."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from .base import Section


class McpSettings(Section):
    """The MCP server. A bare tool call is a model's, not a person's: it approves nothing
    unless the user turns that on here, and then only on a paper account."""

    approve_without_confirmation: bool = Field(
        False,
        description="paper only: approve_proposal fills without an elicitation the user confirmed",
    )


class ServeSettings(Section):
    """``tradecrew serve``: how often each job runs, when data counts as stale, where the
    HTTP endpoints may listen. Intervals are seconds."""

    watch_seconds: float = Field(5.0, gt=0, description="risk watch over the book")
    refresh_seconds: float = Field(30.0, gt=0, description="market data and paper matching")
    reconcile_seconds: float = Field(60.0, gt=0, description="ledger against the broker")
    crew: dict[str, float] = Field(
        default_factory=lambda: {"D1": 86400.0},
        description="timeframe -> seconds between crew cycles over the watchlist, aligned "
        "to multiples of the interval; {} runs no crew",
    )
    ab_check_seconds: float = Field(3600.0, gt=0)
    automl_check_seconds: float = Field(3600.0, gt=0)
    stream_quotes: bool = Field(
        True, description="stream the watchlist's quotes when the data source streams (alpaca)"
    )
    telegram_poll_seconds: float = Field(
        5.0, gt=0, description="Telegram approve/reject presses, when an approver chat is set"
    )
    misfire_grace_seconds: float = Field(
        30.0, gt=0, description="a run later than this is skipped, not replayed"
    )
    snapshot_seconds: float = Field(
        60.0, gt=0, description="equity observations for the daily-loss and drawdown limits"
    )
    max_data_age_seconds: float = Field(
        300.0, gt=0, description="/readyz: oldest live quote while its market is open"
    )
    halt_loss_multiple: float = Field(
        2.0, ge=1, description="a daily loss or drawdown this many times its limit halts"
    )
    shutdown_seconds: float = Field(
        8.0, gt=0, le=9, description="how long a SIGTERM waits for the running step"
    )
    allow_network: bool = Field(
        False, description="let --http bind an address other machines can reach"
    )
    allowed_hosts: list[str] = Field(
        default_factory=list, description="other Host names clients reach --http by"
    )


def _loopback_or_https(url: str, what: str) -> str:
    """HTTPS, or plain HTTP to this machine only (a local stand-in, a relay on loopback):
    a token must never cross a network in clear text."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return url
    raise ValueError(f"{what} must be an https:// URL (or http:// on 127.0.0.1)")


class AlertSettings(Section):
    """Alerts (webhook, Telegram) and Telegram's approve/reject buttons. Environment only:
    ``TRADECREW_ALERTS__...``; the token and the webhook URL are secrets and never print."""

    webhook_url: SecretStr | None = Field(
        None, description="JSON POST of every alert; may carry a token, so it is a secret"
    )
    telegram_bot_token: SecretStr | None = None
    telegram_chat_id: str | None = Field(
        None, description="the chat alerts go to; callbacks from any other chat are refused"
    )
    telegram_approver_chat_id: str | None = Field(
        None,
        description="the user's own chat: its approve/reject buttons count as a person's "
        "approval (channel 'telegram'); unset, buttons are refused",
    )
    telegram_api_url: str = Field("https://api.telegram.org", description="Bot API base URL")
    dedup_seconds: float = Field(
        300.0, ge=0, description="the same alert key within this window is sent once"
    )
    rate_limit: int = Field(20, ge=1, description="most alerts sent per rate window")
    rate_window_seconds: float = Field(
        60.0, gt=0, description="past the limit, the window's alerts come as one summary"
    )
    timeout_seconds: float = Field(5.0, gt=0, le=60, description="per HTTP request to a sink")
    poll_seconds: int = Field(
        20, ge=0, le=50, description="getUpdates long-poll wait for button presses"
    )

    @field_validator(
        "webhook_url",
        "telegram_bot_token",
        "telegram_chat_id",
        "telegram_approver_chat_id",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # An empty variable (``VAR=`` in a compose or .env file) means "not configured".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_chat_id", "telegram_approver_chat_id")
    @classmethod
    def _chat_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = str(value).strip()
        if not value.lstrip("-").isdigit():
            raise ValueError("a Telegram chat id is a (possibly negative) integer")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return _loopback_or_https(value.rstrip("/"), "telegram_api_url")

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                _loopback_or_https(value.get_secret_value(), "webhook_url")
            except ValueError:
                # Said without the value: the URL is a secret.
                raise ValueError(
                    "webhook_url must be an https:// URL (or http:// on 127.0.0.1)"
                ) from None
        return value

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None and self.telegram_chat_id is not None

    @property
    def telegram_approves(self) -> bool:
        """Buttons count as a person's approval only when the alert chat is the user's own."""
        return (
            self.telegram_enabled
            and self.telegram_approver_chat_id is not None
            and self.telegram_approver_chat_id == self.telegram_chat_id
        )
