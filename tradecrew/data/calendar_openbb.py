"""OpenBB's economic calendar (``obb.economy.calendar``) as desk events, where the openbb
extra is installed. Providers differ in shape: the currency comes from ``currency`` or, when
absent, from the country (a code or a name); the impact from ``importance`` (1-3 or a word)
or ``impact``. Rows without a time, a known currency or an impact are skipped."""

from __future__ import annotations

import importlib
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tradecrew.data.base import SourceUnavailable
from tradecrew.data.calendar_events import EconomicEvent
from tradecrew.text import redacted

PROVIDER = "openbb"
log = logging.getLogger(__name__)

_EURO = ("EU", "EMU", "EA", "EZ", "DE", "FR", "IT", "ES", "NL", "BE", "AT", "PT", "IE", "FI", "GR")
_COUNTRY_CODES = {
    "US": "USD", "USA": "USD", "GB": "GBP", "UK": "GBP", "JP": "JPY", "CA": "CAD", "AU": "AUD",
    "NZ": "NZD", "CH": "CHF", "CN": "CNY", **{code: "EUR" for code in _EURO},
}  # fmt: skip
_COUNTRY_NAMES = {
    "united states": "USD", "euro area": "EUR", "euro zone": "EUR", "eurozone": "EUR",
    "european union": "EUR", "germany": "EUR", "france": "EUR", "italy": "EUR", "spain": "EUR",
    "united kingdom": "GBP", "japan": "JPY", "canada": "CAD", "australia": "AUD",
    "new zealand": "NZD", "switzerland": "CHF", "china": "CNY",
}  # fmt: skip
_WORDS = {"high": "high", "medium": "medium", "moderate": "medium", "low": "low"}
_LEVELS = {3: "high", 2: "medium", 1: "low"}


def _currency(row: dict[str, Any]) -> str | None:
    code = str(row.get("currency") or "").strip().upper()
    if len(code) == 3 and code.isalpha():
        return code
    country = str(row.get("country") or "").strip()
    return _COUNTRY_CODES.get(country.upper()) or _COUNTRY_NAMES.get(country.lower())


def _impact(row: dict[str, Any]) -> str | None:
    for key in ("importance", "impact"):
        value = row.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _LEVELS.get(int(value))
        if isinstance(value, str) and value.strip():
            text = value.strip().lower()
            return _LEVELS.get(int(text)) if text.isdigit() else _WORDS.get(text)
    return None


def _row(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    dump = getattr(item, "model_dump", None)
    return dump() if callable(dump) else dict(vars(item))


def events_from_results(results: list[Any]) -> list[EconomicEvent]:
    """Desk events of OpenBB's calendar results (Data models or dicts)."""
    events: list[EconomicEvent] = []
    for item in results:
        row = _row(item)
        currency, impact, when = _currency(row), _impact(row), row.get("date")
        if currency is None or impact is None or not isinstance(when, datetime | str):
            continue
        try:
            title = redacted(str(row.get("event") or row.get("category") or ""), (), 120)
            events.append(
                EconomicEvent.model_validate(
                    {
                        "time": when,
                        "currency": currency,
                        "impact": impact,
                        "title": title or "untitled",
                        "forecast": _text(row.get("consensus", row.get("forecast"))),
                        "previous": _text(row.get("previous")),
                        "actual": _text(row.get("actual")),
                        "source": PROVIDER,
                    }
                )
            )
        except ValueError:
            continue
    return sorted(events, key=lambda e: e.time)


def _text(value: Any) -> str | None:
    return redacted(str(value), (), 40) if value not in (None, "") else None


def fetch_events(
    provider: str | None = None, *, now: datetime | None = None, days: int = 14
) -> list[EconomicEvent]:
    """Events from a week ago to ``days`` ahead through ``obb.economy.calendar``;
    SourceUnavailable naming openbb when it is not installed or its provider fails."""
    try:
        obb = importlib.import_module("openbb").obb
    except ImportError:
        raise SourceUnavailable(
            PROVIDER,
            "openbb is not installed; run `uv sync --extra openbb` plus a provider that "
            "serves the economic calendar (openbb-fmp, openbb-nasdaq, openbb-tradingeconomics)",
        ) from None
    today = (now or datetime.now(UTC)).date()
    start: date = today - timedelta(days=7)
    options: dict[str, Any] = {"start_date": start, "end_date": today + timedelta(days=days)}
    if provider:
        options["provider"] = provider
    try:
        answer = obb.economy.calendar(**options)
    except Exception as exc:  # any provider failure: one line naming openbb
        cause = redacted(str(exc) or type(exc).__name__, (), 200)
        raise SourceUnavailable(PROVIDER, f"economy.calendar failed: {cause}") from None
    results = getattr(answer, "results", answer)
    if not isinstance(results, list):
        raise SourceUnavailable(PROVIDER, "malformed reply: calendar results are not a list")
    events = events_from_results(results)
    if results and not events:
        raise SourceUnavailable(PROVIDER, f"none of {len(results)} calendar rows usable")
    if not events:
        raise SourceUnavailable(PROVIDER, "the calendar returned no events")
    return events
