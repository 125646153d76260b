"""Where an Alpaca data client connects and with which keys, for the market-data provider
and the news feed alike: one URL check, one key look-up, one retrying session."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from tradecrew.config import DataSettings, Settings
from tradecrew.data.alpaca_transport import RetryingSession, public_url
from tradecrew.data.base import DataError

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def checked_url(url: str) -> str:
    """The data URL without a trailing slash; plain http only to this machine, because
    every request carries the API keys in its headers."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DataError(f"the alpaca data URL must be http(s)://host..., got {public_url(url)!r}")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise DataError(
            f"refusing to send Alpaca keys over plain http to {parts.hostname}; use https"
        )
    return url.strip().rstrip("/")


def _secret(value: str | SecretStr | None) -> str | None:
    if isinstance(value, SecretStr):
        return value.get_secret_value() or None
    return value or None


def alpaca_keys(
    cfg: Settings, api_key: str | SecretStr | None, secret_key: str | SecretStr | None
) -> tuple[str | None, str | None]:
    """The key id and secret: the ones given, else the broker settings', else alpaca-py's
    own environment variables."""
    broker = cfg.broker
    key = _secret(api_key) or _secret(broker.alpaca_api_key) or os.environ.get("APCA_API_KEY_ID")
    secret = (
        _secret(secret_key)
        or _secret(broker.alpaca_secret_key)
        or os.environ.get("APCA_API_SECRET_KEY")
    )
    return key, secret


def use_retrying_session(
    client: Any,
    data: DataSettings,
    backoff: float,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Give an alpaca-py client the desk's session in place of its own fixed-wait retries."""
    client._retry = 0  # the session below retries, honouring Retry-After
    options: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
    client._session = RetryingSession(
        timeout=data.timeout_seconds,
        attempts=data.max_attempts,
        backoff=backoff,
        max_wait=data.max_retry_wait_seconds,
        **options,
    )
