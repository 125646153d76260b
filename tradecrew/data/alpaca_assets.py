"""The symbols Alpaca trades, from its read-only assets API (``GET /v2/assets``), as
``InstrumentInfo``: asset class, tick size, fractional, shortable, exchange."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from tradecrew.config import Settings
from tradecrew.data.alpaca_access import alpaca_keys, checked_url
from tradecrew.data.alpaca_transport import RetryingSession, public_url
from tradecrew.data.base import DataError, SourceUnavailable
from tradecrew.instrument_search import InstrumentInfo
from tradecrew.text import redacted

SOURCE = "alpaca"
# Alpaca's paper trading endpoint: its assets list is the live one's, and it is the safe
# default when no broker URL is set (this only reads).
PAPER_URL = "https://paper-api.alpaca.markets"

_HOURS = {
    "us_equity": "US market hours",
    "crypto": "24/7",
}
_CLASS = {"us_equity": "equity", "crypto": "crypto", "us_option": "option"}


def _number(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def asset_info(asset: dict[str, Any]) -> InstrumentInfo:
    """One Alpaca asset record as the desk shows it."""
    symbol = str(asset["symbol"])
    kind = str(asset.get("class") or "")
    quote = symbol.partition("/")[2] if "/" in symbol else "USD"
    fractional = asset.get("fractionable")
    return InstrumentInfo(
        symbol=symbol,
        name=str(asset.get("name") or ""),
        asset_class=_CLASS.get(kind, kind or "unknown"),
        currency=quote,
        tick_size=_number(asset.get("price_increment")),
        contract_size=1.0,
        min_quantity=_number(asset.get("min_order_size")),
        quantity_step=_number(asset.get("min_trade_increment")),
        fractional=bool(fractional) if fractional is not None else None,
        shortable=asset.get("shortable"),
        tradable=asset.get("tradable"),
        exchange=asset.get("exchange"),
        trading_hours=_HOURS.get(kind),
        source=SOURCE,
    )


def alpaca_assets(
    settings: Settings,
    *,
    backoff: float = 0.5,
    sleep: Callable[[float], None] | None = None,
) -> list[InstrumentInfo]:
    """Every active asset Alpaca lists; raises SourceUnavailable when it does not answer."""
    key, secret = alpaca_keys(settings, None, None)
    if not key or not secret:
        raise DataError(
            "alpaca keys are not set: TRADECREW_BROKER__ALPACA_API_KEY and "
            "TRADECREW_BROKER__ALPACA_SECRET_KEY (or APCA_API_KEY_ID / APCA_API_SECRET_KEY)"
        )
    base = checked_url(settings.broker.alpaca_base_url or PAPER_URL)
    data = settings.data
    options: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
    session = RetryingSession(
        timeout=data.timeout_seconds,
        attempts=data.max_attempts,
        backoff=backoff,
        max_wait=data.max_retry_wait_seconds,
        **options,
    )
    headers = {"APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": secret}
    url = f"{base}/v2/assets"
    try:
        with session:
            response = session.get(url, params={"status": "active"}, headers=headers)
    except requests.RequestException as exc:
        raise SourceUnavailable(
            SOURCE, f"{public_url(url)} did not answer ({type(exc).__name__})"
        ) from None
    if response.status_code != 200:
        detail = redacted(response.text[:300], [key, secret], 200)
        raise SourceUnavailable(SOURCE, f"assets API answered {response.status_code}: {detail}")
    try:
        records = response.json()
        if not isinstance(records, list):
            raise TypeError("not a list")
        return [asset_info(r) for r in records if isinstance(r, dict) and r.get("symbol")]
    except (ValueError, TypeError, KeyError) as exc:
        raise SourceUnavailable(SOURCE, f"assets API sent an unexpected reply ({exc})") from None


__all__ = ["PAPER_URL", "SOURCE", "alpaca_assets", "asset_info"]
